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
public final class BleuState implements MetricState<BleuState> {
    private static final long serialVersionUID = 1L;

    /** The n-gram orders (sacrebleu's {@code MAX_NGRAM_ORDER}). */
    public static final int MAX_ORDER = 4;

    /** sacrebleu's {@code smooth_method}s offered here. */
    public enum Smoothing {
        NONE,
        EXP
    }

    private final Smoothing smoothing;
    private long sysLen;
    private long refLen;
    private final long[] correct;
    private final long[] total;

    public BleuState() {
        this(Smoothing.EXP);
    }

    public BleuState(Smoothing smoothing) {
        this(Objects.requireNonNull(smoothing, "smoothing"), 0, 0, new long[MAX_ORDER], new long[MAX_ORDER]);
    }

    private BleuState(Smoothing smoothing, long sysLen, long refLen, long[] correct, long[] total) {
        this.smoothing = smoothing;
        this.sysLen = sysLen;
        this.refLen = refLen;
        this.correct = correct;
        this.total = total;
    }

    /** One hypothesis against its reference. */
    public BleuState add(String hypothesis, String reference) {
        return add(hypothesis, List.of(reference));
    }

    /** One hypothesis against one or more references (sacrebleu's reference streams, one text from each). */
    public BleuState add(String hypothesis, List<String> references) {
        Objects.requireNonNull(hypothesis, "hypothesis");
        if (references.isEmpty()) throw new IllegalArgumentException("BLEU needs at least one reference per text");
        Map<List<String>, Integer> refNgrams = new HashMap<>();
        int[] refLens = new int[references.size()];
        for (int r = 0; r < refLens.length; r++) {
            String[] toks = split(tokenize13a(Objects.requireNonNull(references.get(r), "reference")));
            refLens[r] = toks.length;
            Map<List<String>, Integer> counts = ngrams(toks);
            for (Map.Entry<List<String>, Integer> e : counts.entrySet())
                refNgrams.merge(e.getKey(), e.getValue(), Math::max);
        }
        String[] hyp = split(tokenize13a(hypothesis));
        int closest = -1;
        int closestDiff = -1;
        for (int len : refLens) {
            int diff = Math.abs(hyp.length - len);
            if (closestDiff == -1 || diff < closestDiff || (diff == closestDiff && len < closest)) {
                closestDiff = diff;
                closest = len;
            }
        }
        sysLen += hyp.length;
        refLen += closest;
        for (Map.Entry<List<String>, Integer> e : ngrams(hyp).entrySet()) {
            int n = e.getKey().size() - 1;
            total[n] += e.getValue();
            correct[n] += Math.min(e.getValue(), refNgrams.getOrDefault(e.getKey(), 0));
        }
        return this;
    }

    /** {@code bleu} (0..100), {@code precision_1..4} (0..100), {@code brevity_penalty}, {@code sys_len}, {@code ref_len}. */
    @Override
    public Map<String, Double> compute() {
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
    public BleuState merge(BleuState o) {
        if (o.smoothing != smoothing) {
            throw new IllegalArgumentException(
                    "cannot merge BLEU states smoothed " + smoothing + " and " + o.smoothing);
        }
        long[] c = new long[MAX_ORDER];
        long[] t = new long[MAX_ORDER];
        for (int n = 0; n < MAX_ORDER; n++) {
            c[n] = correct[n] + o.correct[n];
            t[n] = total[n] + o.total[n];
        }
        return new BleuState(smoothing, sysLen + o.sysLen, refLen + o.refLen, c, t);
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
        return String.join(" ", split(line));
    }

    /** Python's {@code str.split()}: runs of whitespace separate, none at either end. */
    static String[] split(String s) {
        java.util.ArrayList<String> out = new java.util.ArrayList<>();
        int i = 0;
        int n = s.length();
        while (i < n) {
            while (i < n && isPySpace(s.charAt(i))) i++;
            int start = i;
            while (i < n && !isPySpace(s.charAt(i))) i++;
            if (i > start) out.add(s.substring(start, i));
        }
        return out.toArray(new String[0]);
    }

    private static boolean isPySpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
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
    public boolean equals(Object o) {
        return o instanceof BleuState s
                && s.smoothing == smoothing
                && s.sysLen == sysLen
                && s.refLen == refLen
                && Arrays.equals(s.correct, correct)
                && Arrays.equals(s.total, total);
    }

    @Override
    public int hashCode() {
        return Objects.hash(smoothing, sysLen, refLen, Arrays.hashCode(correct), Arrays.hashCode(total));
    }

    @Override
    public String toString() {
        return "BleuState[sys_len=" + sysLen + ", ref_len=" + refLen + "]";
    }
}
