package io.sparkformers.metrics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Corpus chrF as sacrebleu's {@code corpus_chrf} computes it with its defaults (what HF {@code evaluate}'s {@code chrf}
 * reports): character n-grams of orders 1..6 over the text with its whitespace removed (code points, case kept), no
 * word n-grams (chrF, not chrF++), β = 2; per order the hypothesis, reference and clipped match counts are summed over
 * the corpus; precision and recall are averaged over the orders both sides have ("effective order", sacrebleu's
 * default without {@code eps_smoothing}) and combined as F_β on the 0..100 scale. With several references a text
 * keeps the counts of the reference with the best sentence-level score, as sacrebleu does. The counts are sufficient
 * statistics, so merged states give the corpus score of all the data.
 */
public final class ChrfState extends SacrebleuCounts<ChrfState> {
    private static final long serialVersionUID = 2L;

    /** sacrebleu's {@code CHRF.CHAR_ORDER}. */
    public static final int CHAR_ORDER = 6;

    /** sacrebleu's {@code CHRF.BETA}. */
    public static final int BETA = 2;

    // the counts: a (hypothesis, reference, match) triple of n-gram counts per order n = 1..6, in order

    public ChrfState() {
        super(new long[3 * CHAR_ORDER]);
    }

    private ChrfState(long[] counts) {
        super(counts);
    }

    /** One hypothesis against one or more references: the counts of the best-scoring reference are kept. */
    @Override
    public ChrfState add(String hypothesis, List<String> references) {
        checkText(hypothesis, references);
        List<Map<String, Integer>> hypGrams = charNgrams(hypothesis);
        long[] best = null;
        double bestScore = -1;
        for (String r : references) {
            List<Map<String, Integer>> refGrams = charNgrams(r);
            long[] stats = new long[3 * CHAR_ORDER];
            for (int n = 0; n < CHAR_ORDER; n++) {
                Map<String, Integer> h = hypGrams.get(n);
                Map<String, Integer> rf = refGrams.get(n);
                long hypCount = 0;
                long matchCount = 0;
                for (Map.Entry<String, Integer> e : h.entrySet()) {
                    hypCount += e.getValue();
                    Integer inRef = rf.get(e.getKey());
                    if (inRef != null) matchCount += Math.min(e.getValue(), inRef);
                }
                long refCount = 0;
                for (int c : rf.values()) refCount += c;
                // sacrebleu counts no hypothesis n-grams for an order the reference does not have
                stats[3 * n] = rf.isEmpty() ? 0 : hypCount;
                stats[3 * n + 1] = refCount;
                stats[3 * n + 2] = matchCount;
            }
            double score = fScore(stats);
            if (score > bestScore) {
                bestScore = score;
                best = stats;
            }
        }
        for (int i = 0; i < counts.length; i++) counts[i] += best[i];
        return this;
    }

    /** {@code chrf} (0..100). */
    @Override
    public Map<String, Double> compute() {
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("chrf", fScore(counts));
        return out;
    }

    @Override
    String metric() {
        return "chrF";
    }

    @Override
    String settings() {
        return "";
    }

    @Override
    ChrfState withCounts(long[] counts) {
        return new ChrfState(counts);
    }

    @Override
    public String toString() {
        return "ChrfState" + Arrays.toString(counts);
    }

    /** sacrebleu's {@code CHRF._compute_f_score} without eps smoothing, over [hyp, ref, match] triples. */
    private static double fScore(long[] stats) {
        double factor = BETA * BETA;
        double avgPrec = 0;
        double avgRec = 0;
        int effectiveOrder = 0;
        for (int n = 0; n < CHAR_ORDER; n++) {
            long h = stats[3 * n];
            long r = stats[3 * n + 1];
            long m = stats[3 * n + 2];
            if (h > 0 && r > 0) {
                avgPrec += (double) m / h;
                avgRec += (double) m / r;
                effectiveOrder++;
            }
        }
        if (effectiveOrder == 0) return 0.0;
        avgPrec /= effectiveOrder;
        avgRec /= effectiveOrder;
        if (avgPrec + avgRec == 0) return 0.0;
        return 100 * (1 + factor) * avgPrec * avgRec / (factor * avgPrec + avgRec);
    }

    /** Counts of the character n-grams of orders 1..6, whitespace removed as Python's {@code ''.join(s.split())}. */
    private static List<Map<String, Integer>> charNgrams(String text) {
        int[] cps = text.codePoints().filter(c -> !PythonStr.isSpace(c)).toArray();
        String joined = new String(cps, 0, cps.length);
        int[] offsets = new int[cps.length + 1];
        for (int i = 0, off = 0; i < cps.length; i++) {
            offsets[i] = off;
            off += Character.charCount(cps[i]);
            offsets[i + 1] = off;
        }
        List<Map<String, Integer>> out = new ArrayList<>(CHAR_ORDER);
        for (int n = 1; n <= CHAR_ORDER; n++) {
            Map<String, Integer> counts = new HashMap<>();
            for (int i = 0; i + n <= cps.length; i++) {
                counts.merge(joined.substring(offsets[i], offsets[i + n]), 1, Integer::sum);
            }
            out.add(counts);
        }
        return out;
    }
}
