package io.sparkformers.metrics;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Multi-label classification metrics from per-label counts, as scikit-learn computes them on label-indicator
 * matrices: micro and macro precision/recall/F1 ({@code zero_division=0}; macro over every label column, as
 * scikit-learn does for indicator input) and subset accuracy ({@code accuracy_score}: every label of an example
 * right). Predictions come from logits as in HF's multi-label recipe: {@code sigmoid(logit) >= threshold}.
 */
public final class MultiLabelState implements MetricState<MultiLabelState> {
    private static final long serialVersionUID = 1L;

    private final int numLabels;
    private final long[] tp;
    private final long[] fp;
    private final long[] fn;
    private long exactMatches;
    private long examples;

    public MultiLabelState(int numLabels) {
        if (numLabels < 1) throw new IllegalArgumentException("numLabels must be >= 1 but was " + numLabels);
        this.numLabels = numLabels;
        this.tp = new long[numLabels];
        this.fp = new long[numLabels];
        this.fn = new long[numLabels];
    }

    public int numLabels() {
        return numLabels;
    }

    /** Counts one example given its true and predicted label sets as indicator arrays of length numLabels. */
    public MultiLabelState add(boolean[] truth, boolean[] predicted) {
        if (truth.length != numLabels || predicted.length != numLabels) {
            throw new IllegalArgumentException("expected " + numLabels + " labels per example but got " + truth.length
                    + " true and " + predicted.length + " predicted");
        }
        boolean all = true;
        for (int k = 0; k < numLabels; k++) {
            if (truth[k] && predicted[k]) tp[k]++;
            else if (predicted[k]) fp[k]++;
            else if (truth[k]) fn[k]++;
            all &= truth[k] == predicted[k];
        }
        if (all) exactMatches++;
        examples++;
        return this;
    }

    /**
     * Counts a batch from logits and 0/1 targets, both row-major {@code (batch, numLabels)}. A label is predicted
     * when {@code sigmoid(logit) >= threshold}, the sigmoid rounded to float32 as torch computes it.
     */
    public MultiLabelState addLogits(float[] logits, float[] targets, double threshold) {
        if (logits.length != targets.length || logits.length % numLabels != 0) {
            throw new IllegalArgumentException("logits (" + logits.length + ") and targets (" + targets.length
                    + ") must both hold batch x " + numLabels + " values");
        }
        boolean[] t = new boolean[numLabels];
        boolean[] p = new boolean[numLabels];
        for (int i = 0; i < logits.length; i += numLabels) {
            for (int k = 0; k < numLabels; k++) {
                float prob = (float) (1.0 / (1.0 + Math.exp(-logits[i + k])));
                p[k] = prob >= threshold;
                t[k] = targets[i + k] >= 0.5f;
            }
            add(t, p);
        }
        return this;
    }

    /** Number of examples counted. */
    public long examples() {
        return examples;
    }

    /** Subset accuracy: the fraction of examples whose whole label set is right; NaN with no examples. */
    public double subsetAccuracy() {
        return examples == 0 ? Double.NaN : (double) exactMatches / examples;
    }

    /**
     * accuracy (subset), f1_micro, f1_macro, precision_micro, precision_macro, recall_micro, recall_macro.
     */
    @Override
    public Map<String, Double> compute() {
        long tpSum = 0;
        long fpSum = 0;
        long fnSum = 0;
        double pMacro = 0;
        double rMacro = 0;
        double fMacro = 0;
        for (int k = 0; k < numLabels; k++) {
            tpSum += tp[k];
            fpSum += fp[k];
            fnSum += fn[k];
            pMacro += ratio(tp[k], tp[k] + fp[k]);
            rMacro += ratio(tp[k], tp[k] + fn[k]);
            fMacro += ratio(2 * tp[k], 2 * tp[k] + fp[k] + fn[k]);
        }
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("accuracy", subsetAccuracy());
        out.put("f1_micro", ratio(2 * tpSum, 2 * tpSum + fpSum + fnSum));
        out.put("f1_macro", fMacro / numLabels);
        out.put("precision_micro", ratio(tpSum, tpSum + fpSum));
        out.put("precision_macro", pMacro / numLabels);
        out.put("recall_micro", ratio(tpSum, tpSum + fnSum));
        out.put("recall_macro", rMacro / numLabels);
        return out;
    }

    private static double ratio(long num, long den) {
        return den == 0 ? 0.0 : (double) num / den; // zero_division=0
    }

    @Override
    public MultiLabelState merge(MultiLabelState other) {
        if (other.numLabels != numLabels) {
            throw new IllegalArgumentException(
                    "cannot merge states over " + numLabels + " and " + other.numLabels + " labels");
        }
        MultiLabelState out = new MultiLabelState(numLabels);
        for (int k = 0; k < numLabels; k++) {
            out.tp[k] = tp[k] + other.tp[k];
            out.fp[k] = fp[k] + other.fp[k];
            out.fn[k] = fn[k] + other.fn[k];
        }
        out.exactMatches = exactMatches + other.exactMatches;
        out.examples = examples + other.examples;
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MultiLabelState s
                && s.numLabels == numLabels
                && Arrays.equals(tp, s.tp)
                && Arrays.equals(fp, s.fp)
                && Arrays.equals(fn, s.fn)
                && s.exactMatches == exactMatches
                && s.examples == examples;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(new long[] {
            numLabels, Arrays.hashCode(tp), Arrays.hashCode(fp), Arrays.hashCode(fn), exactMatches, examples
        });
    }

    @Override
    public String toString() {
        return "MultiLabelState[numLabels=" + numLabels + ", examples=" + examples + "]";
    }
}
