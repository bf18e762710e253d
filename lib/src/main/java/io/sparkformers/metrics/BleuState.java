package io.sparkformers.metrics;

import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Corpus BLEU as sacrebleu's {@code corpus_bleu} computes it (what HF {@code run_translation.py} reports): each text
 * tokenized by the {@code 13a} tokenizer (mteval-v13a), case kept; clipped n-gram matches for n = 1..4 summed over the
 * corpus (the most of each n-gram in any one reference); the closest reference length (the shorter on a tie);
 * brevity penalty {@code exp(1 - ref_len / sys_len)} when the system is shorter; score on sacrebleu's 0..100 scale.
 * {@link Smoothing#EXP} is sacrebleu's default (an order with no match counts 1 / (2^k · total) instead of 0);
 * {@link Smoothing#NONE} gives 0 when any order has no match. The counts are sufficient statistics, so merged states
 * give the corpus score of all the data.
 */
public final class BleuState extends SacrebleuCounts<BleuState> {
    private static final long serialVersionUID = 2L;

    /** The n-gram orders (sacrebleu's {@code MAX_NGRAM_ORDER}). */
    public static final int MAX_ORDER = 4;

    /** sacrebleu's {@code smooth_method}s offered here. */
    public enum Smoothing {
        NONE,
        EXP
    }

    // the counts: the hypothesis length, the closest reference length, then per order n = 1..4 the clipped matches,
    // then per order the hypothesis n-grams
    private static final int SYS_LEN = 0;
    private static final int REF_LEN = 1;
    private static final int CORRECT = 2;
    private static final int TOTAL = CORRECT + MAX_ORDER;

    private final Smoothing smoothing;

    public BleuState() {
        this(Smoothing.EXP);
    }

    public BleuState(Smoothing smoothing) {
        this(Objects.requireNonNull(smoothing, "smoothing"), new long[TOTAL + MAX_ORDER]);
    }

    private BleuState(Smoothing smoothing, long[] counts) {
        super(counts);
        this.smoothing = smoothing;
    }

    /** One hypothesis against one or more references (sacrebleu's reference streams, one text from each). */
    @Override
    public BleuState add(String hypothesis, List<String> references) {
        checkText(hypothesis, references);
        Map<List<String>, Integer> refNgrams = new HashMap<>();
        int[] refLens = new int[references.size()];
        for (int r = 0; r < refLens.length; r++) {
            String[] toks = tokens(references.get(r));
            refLens[r] = toks.length;
            Map<List<String>, Integer> counts = ngrams(toks);
            for (Map.Entry<List<String>, Integer> e : counts.entrySet())
                refNgrams.merge(e.getKey(), e.getValue(), Math::max);
        }
        String[] hyp = tokens(hypothesis);
        int closest = -1;
        int closestDiff = -1;
        for (int len : refLens) {
            int diff = Math.abs(hyp.length - len);
            if (closestDiff == -1 || diff < closestDiff || (diff == closestDiff && len < closest)) {
                closestDiff = diff;
                closest = len;
            }
        }
        counts[SYS_LEN] += hyp.length;
        counts[REF_LEN] += closest;
        for (Map.Entry<List<String>, Integer> e : ngrams(hyp).entrySet()) {
            int n = e.getKey().size() - 1;
            counts[TOTAL + n] += e.getValue();
            counts[CORRECT + n] += Math.min(e.getValue(), refNgrams.getOrDefault(e.getKey(), 0));
        }
        return this;
    }

    /** {@code bleu} (0..100), {@code precision_1..4} (0..100), {@code brevity_penalty}, {@code sys_len}, {@code ref_len}. */
    @Override
    public Map<String, Double> compute() {
        long sysLen = counts[SYS_LEN];
        long refLen = counts[REF_LEN];
        long[] correct = Arrays.copyOfRange(counts, CORRECT, CORRECT + MAX_ORDER);
        long[] total = Arrays.copyOfRange(counts, TOTAL, TOTAL + MAX_ORDER);
        double bp = 1.0;
        if (sysLen < refLen) bp = sysLen > 0 ? Math.exp(1 - (double) refLen / sysLen) : 0.0;
        double[] precisions = new double[MAX_ORDER];
        boolean anyMatch = Arrays.stream(correct).anyMatch(c -> c != 0);
        double score = 0.0;
        if (anyMatch) {
            double smoothMteval = 1.0;
            for (int n = 0; n < MAX_ORDER; n++) {
                if (total[n] == 0) break;
                if (correct[n] == 0) {
                    if (smoothing == Smoothing.EXP) {
                        smoothMteval *= 2;
                        precisions[n] = 100.0 / (smoothMteval * total[n]);
                    }
                } else {
                    precisions[n] = 100.0 * correct[n] / total[n];
                }
            }
            double logSum = 0;
            for (double p : precisions) logSum += p == 0 ? -9999999999.0 : Math.log(p); // sacrebleu's my_log
            score = bp * Math.exp(logSum / MAX_ORDER);
        }
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("bleu", score);
        for (int n = 0; n < MAX_ORDER; n++) out.put("precision_" + (n + 1), precisions[n]);
        out.put("brevity_penalty", bp);
        out.put("sys_len", (double) sysLen);
        out.put("ref_len", (double) refLen);
        return out;
    }

    @Override
    String metric() {
        return "BLEU";
    }

    @Override
    String settings() {
        return "smoothed " + smoothing;
    }

    @Override
    BleuState withCounts(long[] counts) {
        return new BleuState(smoothing, counts);
    }

    // sacrebleu's TokenizerRegexp, applied in order
    private static final Pattern PUNCT = Pattern.compile("([\\{-\\~\\[-\\` -\\&\\(-\\+\\:-\\@\\/])");
    private static final Pattern PERIOD_COMMA_AFTER = Pattern.compile("([^0-9])([\\.,])");
    private static final Pattern PERIOD_COMMA_BEFORE = Pattern.compile("([\\.,])([^0-9])");
    private static final Pattern DIGIT_DASH = Pattern.compile("([0-9])(-)");

    /** sacrebleu's {@code Tokenizer13a}: the tokens joined by single spaces. */
    public static String tokenize13a(String line) {
        line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ");
        if (line.indexOf('&') >= 0) {
            line = line.replace("&quot;", "\"")
                    .replace("&amp;", "&")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">");
        }
        line = " " + line + " ";
        line = PUNCT.matcher(line).replaceAll(" $1 ");
        line = PERIOD_COMMA_AFTER.matcher(line).replaceAll("$1 $2 ");
        line = PERIOD_COMMA_BEFORE.matcher(line).replaceAll(" $1 $2");
        line = DIGIT_DASH.matcher(line).replaceAll("$1 $2 ");
        return String.join(" ", PythonStr.split(line));
    }

    /** The 13a tokens of a text. */
    private static String[] tokens(String text) {
        return PythonStr.split(tokenize13a(text)).toArray(String[]::new);
    }

    private static Map<List<String>, Integer> ngrams(String[] toks) {
        Map<List<String>, Integer> m = new HashMap<>();
        for (int n = 1; n <= MAX_ORDER; n++) {
            for (int i = 0; i + n <= toks.length; i++)
                m.merge(List.of(Arrays.copyOfRange(toks, i, i + n)), 1, Integer::sum);
        }
        return m;
    }

    @Override
    public String toString() {
        return "BleuState[sys_len=" + counts[SYS_LEN] + ", ref_len=" + counts[REF_LEN] + "]";
    }
}
