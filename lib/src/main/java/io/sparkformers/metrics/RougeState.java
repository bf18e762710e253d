package io.sparkformers.metrics;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * ROUGE-1, ROUGE-2, ROUGE-L and ROUGE-Lsum F-measures as Google's {@code rouge_score} computes them (what HF
 * {@code evaluate}'s "rouge" wraps), averaged over the texts: each text lower-cased, every run of characters other
 * than {@code a-z0-9} a separator; with {@code useStemmer} (HF's summarization script's {@code use_stemmer=True}) every
 * token longer than 3 characters replaced by its Porter stem ({@link PorterStemmer}, NLTK's). ROUGE-N from clipped
 * n-gram overlaps, ROUGE-L from the longest common subsequence; precision = overlap / prediction length, recall =
 * overlap / reference length, F = 2PR / (P + R), 0 when either is empty. ROUGE-Lsum is rouge_score's summary-level
 * LCS: both texts split into sentences at newlines (rouge_score's rule; HF's script first puts each nltk sentence on
 * its own line, which this does not), each reference sentence's union LCS with every prediction sentence, each
 * token counted at most as often as it occurs on both sides. The average is the plain mean of the per-text
 * F-measures ({@code evaluate}'s {@code use_aggregator=False} then a mean; its default bootstrap "mid" is a resampled
 * estimate of the same mean). Scores are fractions in 0..1. The sums are exact, so merged states give one state's
 * numbers.
 */
public final class RougeState implements MetricState<RougeState> {
    private static final long serialVersionUID = 2L;

    private final boolean useStemmer;
    private long texts;
    private final ExactSum rouge1;
    private final ExactSum rouge2;
    private final ExactSum rougeL;
    private final ExactSum rougeLsum;

    /** rouge_score's default: no stemming. */
    public RougeState() {
        this(false);
    }

    /** @param useStemmer rouge_score's {@code use_stemmer}: Porter-stem tokens longer than 3 characters */
    public RougeState(boolean useStemmer) {
        this(useStemmer, 0, new ExactSum(), new ExactSum(), new ExactSum(), new ExactSum());
    }

    private RougeState(
            boolean useStemmer, long texts, ExactSum rouge1, ExactSum rouge2, ExactSum rougeL, ExactSum rougeLsum) {
        this.useStemmer = useStemmer;
        this.texts = texts;
        this.rouge1 = rouge1;
        this.rouge2 = rouge2;
        this.rougeL = rougeL;
        this.rougeLsum = rougeLsum;
    }

    /** One prediction against its reference (rouge_score's {@code score(target, prediction)}). */
    public RougeState add(String prediction, String reference) {
        List<String> pred = tokenize(Objects.requireNonNull(prediction, "prediction"), useStemmer);
        List<String> ref = tokenize(Objects.requireNonNull(reference, "reference"), useStemmer);
        rouge1.add(rougeN(pred, ref, 1));
        rouge2.add(rougeN(pred, ref, 2));
        rougeL.add(rougeL(pred, ref));
        rougeLsum.add(rougeLsum(sentences(prediction, useStemmer), sentences(reference, useStemmer)));
        texts++;
        return this;
    }

    /** rouge_score's tokenizer with {@code use_stemmer}: {@link #tokenize(String)}, tokens over 3 characters stemmed. */
    public static List<String> tokenize(String text, boolean useStemmer) {
        List<String> tokens = tokenize(text);
        if (useStemmer) tokens.replaceAll(t -> t.length() > 3 ? PorterStemmer.stem(t) : t);
        return tokens;
    }

    /** rougeLsum's sentences: the text split at newlines, empty lines dropped, each tokenized. */
    static List<List<String>> sentences(String text, boolean useStemmer) {
        List<List<String>> out = new ArrayList<>();
        for (String line : text.split("\n", -1)) if (!line.isEmpty()) out.add(tokenize(line, useStemmer));
        return out;
    }

    /** rouge_score's {@code _summary_level_lcs}: the F-measure of the union LCS hits over the sentences. */
    static double rougeLsum(List<List<String>> pred, List<List<String>> ref) {
        if (pred.isEmpty() || ref.isEmpty()) return 0.0;
        int m = 0;
        int n = 0;
        Map<String, Integer> refCounts = new HashMap<>();
        Map<String, Integer> predCounts = new HashMap<>();
        for (List<String> s : ref) {
            m += s.size();
            for (String t : s) refCounts.merge(t, 1, Integer::sum);
        }
        for (List<String> s : pred) {
            n += s.size();
            for (String t : s) predCounts.merge(t, 1, Integer::sum);
        }
        if (m == 0 || n == 0) return 0.0;
        long hits = 0;
        for (List<String> r : ref) {
            java.util.TreeSet<Integer> union = new java.util.TreeSet<>(); // rouge_score's _union_lcs: sorted indices
            for (List<String> c : pred) union.addAll(lcsIndices(r, c));
            for (int i : union) {
                String t = r.get(i);
                if (predCounts.getOrDefault(t, 0) > 0 && refCounts.getOrDefault(t, 0) > 0) {
                    hits++;
                    predCounts.merge(t, -1, Integer::sum);
                    refCounts.merge(t, -1, Integer::sum);
                }
            }
        }
        return fmeasure((double) hits / n, (double) hits / m);
    }

    /** The indices into {@code ref} of one LCS with {@code can}, by rouge_score's backtrack ({@code _backtrack_norec}). */
    static List<Integer> lcsIndices(List<String> ref, List<String> can) {
        int rows = ref.size();
        int cols = can.size();
        int[][] t = new int[rows + 1][cols + 1];
        for (int i = 1; i <= rows; i++) {
            for (int j = 1; j <= cols; j++) {
                t[i][j] = ref.get(i - 1).equals(can.get(j - 1))
                        ? t[i - 1][j - 1] + 1
                        : Math.max(t[i - 1][j], t[i][j - 1]);
            }
        }
        java.util.LinkedList<Integer> out = new java.util.LinkedList<>();
        int i = rows;
        int j = cols;
        while (i > 0 && j > 0) {
            if (ref.get(i - 1).equals(can.get(j - 1))) {
                out.addFirst(i - 1);
                i--;
                j--;
            } else if (t[i][j - 1] > t[i - 1][j]) {
                j--;
            } else {
                i--;
            }
        }
        return out;
    }

    /** rouge_score's default tokenizer without stemming: lower case, runs of {@code [a-z0-9]} are the tokens. */
    public static List<String> tokenize(String text) {
        String s = text.toLowerCase(Locale.ROOT);
        List<String> out = new ArrayList<>();
        int i = 0;
        int n = s.length();
        while (i < n) {
            while (i < n && !isAlnum(s.charAt(i))) i++;
            int start = i;
            while (i < n && isAlnum(s.charAt(i))) i++;
            if (i > start) out.add(s.substring(start, i));
        }
        return out;
    }

    private static boolean isAlnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    }

    /** The F-measure of ROUGE-N. */
    static double rougeN(List<String> pred, List<String> ref, int n) {
        Map<List<String>, Integer> p = ngrams(pred, n);
        Map<List<String>, Integer> r = ngrams(ref, n);
        long overlap = 0;
        for (Map.Entry<List<String>, Integer> e : p.entrySet())
            overlap += Math.min(e.getValue(), r.getOrDefault(e.getKey(), 0));
        long predCount = Math.max(0, pred.size() - n + 1);
        long refCount = Math.max(0, ref.size() - n + 1);
        return fmeasure((double) overlap / Math.max(predCount, 1), (double) overlap / Math.max(refCount, 1));
    }

    /** The F-measure of ROUGE-L (longest common subsequence of the token lists). */
    static double rougeL(List<String> pred, List<String> ref) {
        if (pred.isEmpty() || ref.isEmpty()) return 0.0;
        int[] prev = new int[pred.size() + 1];
        int[] cur = new int[pred.size() + 1];
        for (String r : ref) {
            for (int j = 1; j <= pred.size(); j++) {
                cur[j] = r.equals(pred.get(j - 1)) ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        int lcs = prev[pred.size()];
        return fmeasure((double) lcs / pred.size(), (double) lcs / ref.size());
    }

    private static double fmeasure(double precision, double recall) {
        return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
    }

    private static Map<List<String>, Integer> ngrams(List<String> toks, int n) {
        Map<List<String>, Integer> m = new HashMap<>();
        for (int i = 0; i + n <= toks.size(); i++) m.merge(List.copyOf(toks.subList(i, i + n)), 1, Integer::sum);
        return m;
    }

    /** {@code rouge1}, {@code rouge2}, {@code rougeL}, {@code rougeLsum}: mean F-measures (NaN when empty). */
    @Override
    public Map<String, Double> compute() {
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("rouge1", texts == 0 ? Double.NaN : rouge1.dividedBy(texts));
        out.put("rouge2", texts == 0 ? Double.NaN : rouge2.dividedBy(texts));
        out.put("rougeL", texts == 0 ? Double.NaN : rougeL.dividedBy(texts));
        out.put("rougeLsum", texts == 0 ? Double.NaN : rougeLsum.dividedBy(texts));
        return out;
    }

    @Override
    public RougeState merge(RougeState o) {
        if (o.useStemmer != useStemmer) {
            throw new IllegalArgumentException("cannot merge ROUGE states with and without stemming");
        }
        return new RougeState(
                useStemmer,
                texts + o.texts,
                rouge1.plus(o.rouge1),
                rouge2.plus(o.rouge2),
                rougeL.plus(o.rougeL),
                rougeLsum.plus(o.rougeLsum));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RougeState s
                && s.useStemmer == useStemmer
                && s.texts == texts
                && s.rouge1.equals(rouge1)
                && s.rouge2.equals(rouge2)
                && s.rougeL.equals(rougeL)
                && s.rougeLsum.equals(rougeLsum);
    }

    @Override
    public int hashCode() {
        return Objects.hash(useStemmer, texts, rouge1, rouge2, rougeL, rougeLsum);
    }

    @Override
    public String toString() {
        return "RougeState[texts=" + texts + "]";
    }
}
