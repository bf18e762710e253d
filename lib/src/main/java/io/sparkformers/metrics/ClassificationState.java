package io.sparkformers.metrics;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Single-label classification metrics from a confusion matrix: accuracy, precision/recall/F1 with scikit-learn's
 * {@code average} modes and {@code zero_division=0}, and the multiclass Matthews correlation coefficient
 * (scikit-learn {@code matthews_corrcoef}).
 *
 * <p>As in scikit-learn with {@code labels=None}, macro and weighted averages run over the labels that occur in the
 * true or predicted values, not over every label id below {@code numLabels}: a class never seen and never predicted
 * does not pull the macro average down. Per-label F1 is {@code 2tp / (2tp + fp + fn)} (scikit-learn ≥ 1.3), 0 when
 * that denominator is 0.
 */
public final class ClassificationState implements MetricState<ClassificationState> {
    private static final long serialVersionUID = 1L;

    /** scikit-learn's {@code average} argument. */
    public enum Average {
        /** Scores of the positive class, label 1 ({@code pos_label=1}); needs exactly two labels. */
        BINARY,
        /** Scores from counts summed over labels; equals accuracy for single-label data. */
        MICRO,
        /** Unweighted mean of per-label scores. */
        MACRO,
        /** Mean of per-label scores weighted by support (true count). */
        WEIGHTED
    }

    private final int numLabels;
    /** Row-major counts: {@code confusion[t * numLabels + p]} examples with true label t predicted as p. */
    private final long[] confusion;

    public ClassificationState(int numLabels) {
        if (numLabels < 2) throw new IllegalArgumentException("numLabels must be >= 2 but was " + numLabels);
        this.numLabels = numLabels;
        this.confusion = new long[numLabels * numLabels];
    }

    public int numLabels() {
        return numLabels;
    }

    /** Counts one example. */
    public ClassificationState add(int label, int prediction) {
        check(label, "label");
        check(prediction, "prediction");
        confusion[label * numLabels + prediction]++;
        return this;
    }

    /** Counts a batch of examples; both arrays have one entry per example. */
    public ClassificationState addAll(int[] labels, int[] predictions) {
        if (labels.length != predictions.length) {
            throw new IllegalArgumentException(labels.length + " labels but " + predictions.length + " predictions");
        }
        for (int i = 0; i < labels.length; i++) add(labels[i], predictions[i]);
        return this;
    }

    /**
     * Counts a batch from logits laid out row-major as {@code (batch, numLabels)}; the prediction is the arg-max,
     * the first index on ties (as {@code numpy.argmax}).
     */
    public ClassificationState addLogits(float[] logits, int[] labels) {
        if (logits.length != labels.length * numLabels) {
            throw new IllegalArgumentException("logits hold " + logits.length + " values, expected " + labels.length
                    + " examples x " + numLabels + " labels");
        }
        for (int i = 0; i < labels.length; i++) add(labels[i], argmax(logits, i * numLabels, numLabels));
        return this;
    }

    static int argmax(float[] values, int offset, int length) {
        int best = 0;
        for (int j = 1; j < length; j++) {
            if (values[offset + j] > values[offset + best]) best = j;
        }
        return best;
    }

    /** Number of examples with true label {@code label} predicted as {@code prediction}. */
    public long count(int label, int prediction) {
        return confusion[label * numLabels + prediction];
    }

    /** Number of examples counted. */
    public long total() {
        long n = 0;
        for (long c : confusion) n += c;
        return n;
    }

    /** Fraction of correct predictions; NaN when no example was counted. */
    public double accuracy() {
        long n = total();
        return n == 0 ? Double.NaN : (double) correct() / n;
    }

    public double precision(Average average) {
        return score(average, Score.PRECISION);
    }

    public double recall(Average average) {
        return score(average, Score.RECALL);
    }

    public double f1(Average average) {
        return score(average, Score.F1);
    }

    /**
     * Matthews correlation coefficient for any number of classes, as scikit-learn's {@code matthews_corrcoef}:
     * {@code (c·s − Σ t_k p_k) / sqrt((s² − Σ p_k²)(s² − Σ t_k²))}, 0 when a factor under the root is 0.
     * The covariances are computed exactly in integers before the single division.
     */
    public double matthewsCorrelation() {
        long[] t = trueCounts();
        long[] p = predCounts();
        long s = total();
        long c = correct();
        long tp = 0;
        long pp = 0;
        long tt = 0;
        for (int k = 0; k < numLabels; k++) {
            tp = Math.addExact(tp, Math.multiplyExact(t[k], p[k]));
            pp = Math.addExact(pp, Math.multiplyExact(p[k], p[k]));
            tt = Math.addExact(tt, Math.multiplyExact(t[k], t[k]));
        }
        long ss = Math.multiplyExact(s, s);
        long covYtYp = Math.subtractExact(Math.multiplyExact(c, s), tp);
        long covYpYp = ss - pp;
        long covYtYt = ss - tt;
        if (covYpYp == 0 || covYtYt == 0) return 0.0;
        return covYtYp / Math.sqrt((double) covYtYt * (double) covYpYp);
    }

    /**
     * accuracy, matthews_correlation, and precision/recall/f1 under the default average (binary for two labels,
     * macro otherwise, matching what HF examples pass), then every average as {@code f1_micro}, {@code f1_macro},
     * {@code f1_weighted} (and likewise for precision and recall).
     */
    @Override
    public Map<String, Double> compute() {
        Map<String, Double> out = new LinkedHashMap<>();
        Average dflt = numLabels == 2 ? Average.BINARY : Average.MACRO;
        out.put("accuracy", accuracy());
        out.put("precision", precision(dflt));
        out.put("recall", recall(dflt));
        out.put("f1", f1(dflt));
        out.put("matthews_correlation", matthewsCorrelation());
        for (Average a : new Average[] {Average.MICRO, Average.MACRO, Average.WEIGHTED}) {
            String suffix = "_" + a.name().toLowerCase(java.util.Locale.ROOT);
            out.put("precision" + suffix, precision(a));
            out.put("recall" + suffix, recall(a));
            out.put("f1" + suffix, f1(a));
        }
        return out;
    }

    @Override
    public ClassificationState merge(ClassificationState other) {
        if (other.numLabels != numLabels) {
            throw new IllegalArgumentException(
                    "cannot merge states over " + numLabels + " and " + other.numLabels + " labels");
        }
        ClassificationState out = new ClassificationState(numLabels);
        for (int i = 0; i < confusion.length; i++) out.confusion[i] = Math.addExact(confusion[i], other.confusion[i]);
        return out;
    }

    private enum Score {
        PRECISION,
        RECALL,
        F1
    }

    private double score(Average average, Score score) {
        long[] t = trueCounts();
        long[] p = predCounts();
        switch (average) {
            case BINARY -> {
                if (numLabels != 2) {
                    throw new IllegalStateException("average=BINARY needs 2 labels but this state has " + numLabels
                            + "; use MICRO, MACRO or WEIGHTED");
                }
                return perLabel(score, count(1, 1), p[1], t[1]);
            }
            case MICRO -> {
                long tp = correct();
                long sum = 0;
                for (long x : t) sum += x; // single-label: Σ pred = Σ true = number of examples
                return perLabel(score, tp, sum, sum);
            }
            case MACRO, WEIGHTED -> {
                double acc = 0;
                long weights = 0;
                int present = 0;
                for (int k = 0; k < numLabels; k++) {
                    if (t[k] == 0 && p[k] == 0) continue; // scikit-learn's labels=None: only labels that occur
                    double v = perLabel(score, count(k, k), p[k], t[k]);
                    if (average == Average.MACRO) {
                        acc += v;
                    } else {
                        acc += v * t[k];
                        weights += t[k];
                    }
                    present++;
                }
                if (average == Average.MACRO) return present == 0 ? 0.0 : acc / present;
                return weights == 0 ? 0.0 : acc / weights;
            }
            default -> throw new AssertionError(average);
        }
    }

    /** One label's score from its true positives, predicted count and true count; zero_division=0. */
    private static double perLabel(Score score, long tp, long predicted, long actual) {
        return switch (score) {
            case PRECISION -> predicted == 0 ? 0.0 : (double) tp / predicted;
            case RECALL -> actual == 0 ? 0.0 : (double) tp / actual;
            case F1 -> predicted + actual == 0 ? 0.0 : 2.0 * tp / (predicted + actual); // 2tp/(2tp+fp+fn)
        };
    }

    private long correct() {
        long c = 0;
        for (int k = 0; k < numLabels; k++) c += count(k, k);
        return c;
    }

    private long[] trueCounts() {
        long[] t = new long[numLabels];
        for (int i = 0; i < numLabels; i++) for (int j = 0; j < numLabels; j++) t[i] += count(i, j);
        return t;
    }

    private long[] predCounts() {
        long[] p = new long[numLabels];
        for (int i = 0; i < numLabels; i++) for (int j = 0; j < numLabels; j++) p[j] += count(i, j);
        return p;
    }

    private void check(int v, String what) {
        if (v < 0 || v >= numLabels) {
            throw new IllegalArgumentException(what + " " + v + " is outside [0, " + numLabels + ")");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClassificationState s && s.numLabels == numLabels && Arrays.equals(confusion, s.confusion);
    }

    @Override
    public int hashCode() {
        return 31 * numLabels + Arrays.hashCode(confusion);
    }

    @Override
    public String toString() {
        return "ClassificationState[numLabels=" + numLabels + ", total=" + total() + "]";
    }
}
