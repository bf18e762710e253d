package io.sparkformers.metrics;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Entity-level precision/recall/F1 for tag sequences, as seqeval's default (non-strict, "conlleval") mode computes
 * them, plus token-level accuracy; the keys are HF {@code evaluate}'s seqeval outputs flattened the way HF's
 * {@code run_ner.py} flattens them ({@code overall_precision}, …, {@code PER_f1}, {@code PER_number}).
 *
 * <p>Chunks are extracted with seqeval's {@code get_entities} rules, which accept IOB1/IOB2/IOE/IOBES prefixes: an
 * {@code I-X} after {@code O} or after a tag of another type starts a new chunk, a type change ends one. A predicted
 * entity is correct when its type, start and end all match a true entity of the same sentence.
 */
public final class SeqevalState implements MetricState<SeqevalState> {
    private static final long serialVersionUID = 1L;

    /** HF's ignore index: positions whose label id is this are skipped by {@link #addIds}. */
    public static final int IGNORE_INDEX = -100;

    /** Per entity type: {true count, predicted count, correct count}. Sorted so outputs are stable. */
    private final TreeMap<String, long[]> counts = new TreeMap<>();

    private long tokensCorrect;
    private long tokens;

    /** An entity span over token positions {@code [start, end]} (inclusive, as seqeval reports them). */
    public record Chunk(String type, int start, int end) {}

    /** Counts one sentence given its true and predicted tags (such as {@code "B-PER"}, {@code "I-PER"}, {@code "O"}). */
    public SeqevalState add(List<String> truth, List<String> predicted) {
        if (truth.size() != predicted.size()) {
            throw new IllegalArgumentException(
                    "sentence has " + truth.size() + " true tags but " + predicted.size() + " predicted tags");
        }
        for (int i = 0; i < truth.size(); i++) {
            if (truth.get(i).equals(predicted.get(i))) tokensCorrect++;
        }
        tokens += truth.size();
        Set<Chunk> trueChunks = new HashSet<>(chunks(truth));
        for (Chunk c : trueChunks) counts(c.type())[0]++;
        for (Chunk c : chunks(predicted)) {
            long[] k = counts(c.type());
            k[1]++;
            if (trueChunks.contains(c)) k[2]++;
        }
        return this;
    }

    /**
     * Counts one sentence given label ids and predicted ids, dropping positions whose label is {@link #IGNORE_INDEX}
     * (special tokens and non-first sub-words), as HF's token-classification example does before calling seqeval.
     */
    public SeqevalState addIds(int[] labelIds, int[] predictionIds, List<String> id2label) {
        if (labelIds.length != predictionIds.length) {
            throw new IllegalArgumentException(
                    labelIds.length + " label ids but " + predictionIds.length + " predictions");
        }
        List<String> t = new ArrayList<>();
        List<String> p = new ArrayList<>();
        for (int i = 0; i < labelIds.length; i++) {
            if (labelIds[i] == IGNORE_INDEX) continue;
            t.add(id2label.get(labelIds[i]));
            p.add(id2label.get(predictionIds[i]));
        }
        return add(t, p);
    }

    private long[] counts(String type) {
        return counts.computeIfAbsent(type, k -> new long[3]);
    }

    /**
     * seqeval's {@code get_entities} for one sentence (prefix mode): the tag's first character is its prefix, the
     * text after the first '-' its type ({@code "_"} when there is none).
     */
    public static List<Chunk> chunks(List<String> tags) {
        List<Chunk> out = new ArrayList<>();
        char prevTag = 'O';
        String prevType = "";
        int begin = 0;
        for (int i = 0; i <= tags.size(); i++) {
            String tag = i < tags.size() ? tags.get(i) : "O"; // a trailing O closes the last chunk
            char prefix = tag.isEmpty() ? 'O' : tag.charAt(0);
            String rest = tag.isEmpty() ? "" : tag.substring(1);
            int dash = rest.indexOf('-');
            String type = dash >= 0 ? rest.substring(dash + 1) : rest;
            if (type.isEmpty()) type = "_";
            if (endOfChunk(prevTag, prefix, prevType, type)) out.add(new Chunk(prevType, begin, i - 1));
            if (startOfChunk(prevTag, prefix, prevType, type)) begin = i;
            prevTag = prefix;
            prevType = type;
        }
        return out;
    }

    private static boolean endOfChunk(char prev, char tag, String prevType, String type) {
        return prev == 'E'
                || prev == 'S'
                || (prev == 'B' || prev == 'I') && (tag == 'B' || tag == 'S' || tag == 'O')
                || prev != 'O' && prev != '.' && !prevType.equals(type);
    }

    private static boolean startOfChunk(char prev, char tag, String prevType, String type) {
        return tag == 'B'
                || tag == 'S'
                || (prev == 'E' || prev == 'S' || prev == 'O') && (tag == 'E' || tag == 'I')
                || tag != 'O' && tag != '.' && !prevType.equals(type);
    }

    /** overall_precision, overall_recall, overall_f1, overall_accuracy, then per type X: X_precision, X_recall, X_f1, X_number. */
    @Override
    public Map<String, Double> compute() {
        long t = 0;
        long p = 0;
        long c = 0;
        for (long[] k : counts.values()) {
            t += k[0];
            p += k[1];
            c += k[2];
        }
        Map<String, Double> out = new LinkedHashMap<>();
        double precision = ratio(c, p);
        double recall = ratio(c, t);
        out.put("overall_precision", precision);
        out.put("overall_recall", recall);
        out.put("overall_f1", f1(precision, recall));
        out.put("overall_accuracy", tokens == 0 ? Double.NaN : (double) tokensCorrect / tokens);
        for (Map.Entry<String, long[]> e : counts.entrySet()) {
            long[] k = e.getValue();
            double pr = ratio(k[2], k[1]);
            double re = ratio(k[2], k[0]);
            out.put(e.getKey() + "_precision", pr);
            out.put(e.getKey() + "_recall", re);
            out.put(e.getKey() + "_f1", f1(pr, re));
            out.put(e.getKey() + "_number", (double) k[0]);
        }
        return out;
    }

    private static double ratio(long num, long den) {
        return den == 0 ? 0.0 : (double) num / den;
    }

    /** seqeval computes F1 from the rounded precision and recall, not from counts; so do we, for equal bits. */
    private static double f1(double precision, double recall) {
        double den = precision + recall;
        return den == 0 ? 0.0 : 2 * precision * recall / den;
    }

    @Override
    public SeqevalState merge(SeqevalState other) {
        SeqevalState out = new SeqevalState();
        for (SeqevalState s : List.of(this, other)) {
            for (Map.Entry<String, long[]> e : s.counts.entrySet()) {
                long[] k = out.counts(e.getKey());
                for (int i = 0; i < 3; i++) k[i] += e.getValue()[i];
            }
            out.tokensCorrect += s.tokensCorrect;
            out.tokens += s.tokens;
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof SeqevalState s)
                || s.tokens != tokens
                || s.tokensCorrect != tokensCorrect
                || !s.counts.keySet().equals(counts.keySet())) {
            return false;
        }
        for (Map.Entry<String, long[]> e : counts.entrySet()) {
            if (!java.util.Arrays.equals(e.getValue(), s.counts.get(e.getKey()))) return false;
        }
        return true;
    }

    @Override
    public int hashCode() {
        int h = Objects.hash(tokens, tokensCorrect);
        for (Map.Entry<String, long[]> e : counts.entrySet()) {
            h = 31 * h + (e.getKey().hashCode() ^ java.util.Arrays.hashCode(e.getValue()));
        }
        return h;
    }

    @Override
    public String toString() {
        return "SeqevalState[types=" + counts.keySet() + ", tokens=" + tokens + "]";
    }
}
