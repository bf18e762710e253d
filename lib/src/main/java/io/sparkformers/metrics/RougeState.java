package io.sparkformers.metrics;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * ROUGE-1, ROUGE-2 and ROUGE-L F-measures as Google's {@code rouge_score} computes them (what HF {@code evaluate}'s
 * "rouge" wraps), averaged over the texts: each text lower-cased, every run of characters other than {@code a-z0-9}
 * a separator; ROUGE-N from clipped n-gram overlaps, ROUGE-L from the longest common subsequence; precision =
 * overlap / prediction length, recall = overlap / reference length, F = 2PR / (P + R), 0 when either is empty.
 * No stemming ({@code use_stemmer=False}, {@code rouge_score}'s default; HF's summarization script turns the Porter
 * stemmer on, which this does not implement). The average is the plain mean of the per-text F-measures
 * ({@code evaluate}'s {@code use_aggregator=False} then a mean; its default bootstrap "mid" is a resampled estimate of
 * the same mean). Scores are fractions in 0..1. The sums are exact, so merged states give one state's numbers.
 */
public final class RougeState implements MetricState<RougeState> {
    private static final long serialVersionUID = 1L;

    private long texts;
    private final ExactSum rouge1;
    private final ExactSum rouge2;
    private final ExactSum rougeL;

    public RougeState() {
        this(0, new ExactSum(), new ExactSum(), new ExactSum());
    }

    private RougeState(long texts, ExactSum rouge1, ExactSum rouge2, ExactSum rougeL) {
        this.texts = texts;
        this.rouge1 = rouge1;
        this.rouge2 = rouge2;
        this.rougeL = rougeL;
    }

    /** One prediction against its reference (rouge_score's {@code score(target, prediction)}). */
    public RougeState add(String prediction, String reference) {
        List<String> pred = tokenize(Objects.requireNonNull(prediction, "prediction"));
        List<String> ref = tokenize(Objects.requireNonNull(reference, "reference"));
        rouge1.add(rougeN(pred, ref, 1));
        rouge2.add(rougeN(pred, ref, 2));
        rougeL.add(rougeL(pred, ref));
        texts++;
        return this;
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

    /** {@code rouge1}, {@code rouge2}, {@code rougeL}: mean F-measures (NaN when empty). */
    @Override
    public Map<String, Double> compute() {
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("rouge1", texts == 0 ? Double.NaN : rouge1.dividedBy(texts));
        out.put("rouge2", texts == 0 ? Double.NaN : rouge2.dividedBy(texts));
        out.put("rougeL", texts == 0 ? Double.NaN : rougeL.dividedBy(texts));
        return out;
    }

    @Override
    public RougeState merge(RougeState o) {
        return new RougeState(texts + o.texts, rouge1.plus(o.rouge1), rouge2.plus(o.rouge2), rougeL.plus(o.rougeL));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RougeState s
                && s.texts == texts
                && s.rouge1.equals(rouge1)
                && s.rouge2.equals(rouge2)
                && s.rougeL.equals(rougeL);
    }

    @Override
    public int hashCode() {
        return Objects.hash(texts, rouge1, rouge2, rougeL);
    }

    @Override
    public String toString() {
        return "RougeState[texts=" + texts + "]";
    }
}
