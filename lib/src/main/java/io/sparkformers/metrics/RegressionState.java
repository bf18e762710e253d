package io.sparkformers.metrics;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Regression metrics from exact sums: mean squared error and mean absolute error (scikit-learn
 * {@code mean_squared_error}, {@code mean_absolute_error}; HF {@code evaluate} "mse", "mae"), their root, and
 * Pearson's r (scipy {@code pearsonr}, HF key "pearsonr") from the raw moment sums. Because every sum is exact
 * ({@link ExactSum}), the usual cancellation in {@code n·Σxy − Σx·Σy} costs nothing and merging is order-free.
 */
public final class RegressionState implements MetricState<RegressionState> {
    private static final long serialVersionUID = 1L;

    private long n;
    private final ExactSum squaredError;
    private final ExactSum absoluteError;
    private final ExactSum sumPred;
    private final ExactSum sumLabel;
    private final ExactSum sumPredSq;
    private final ExactSum sumLabelSq;
    private final ExactSum sumCross;

    public RegressionState() {
        this(
                0,
                new ExactSum(),
                new ExactSum(),
                new ExactSum(),
                new ExactSum(),
                new ExactSum(),
                new ExactSum(),
                new ExactSum());
    }

    private RegressionState(
            long n, ExactSum se, ExactSum ae, ExactSum sp, ExactSum sl, ExactSum spp, ExactSum sll, ExactSum spl) {
        this.n = n;
        this.squaredError = se;
        this.absoluteError = ae;
        this.sumPred = sp;
        this.sumLabel = sl;
        this.sumPredSq = spp;
        this.sumLabelSq = sll;
        this.sumCross = spl;
    }

    /** Counts one example. */
    public RegressionState add(double prediction, double label) {
        double err = prediction - label; // rounded once, as numpy's y_true - y_pred in float64
        squaredError.addProduct(err, err);
        absoluteError.add(Math.abs(err));
        sumPred.add(prediction);
        sumLabel.add(label);
        sumPredSq.addProduct(prediction, prediction);
        sumLabelSq.addProduct(label, label);
        sumCross.addProduct(prediction, label);
        n++;
        return this;
    }

    /** Counts a batch; one prediction per label. */
    public RegressionState addAll(float[] predictions, float[] labels) {
        if (predictions.length != labels.length) {
            throw new IllegalArgumentException(predictions.length + " predictions but " + labels.length + " labels");
        }
        for (int i = 0; i < labels.length; i++) add(predictions[i], labels[i]);
        return this;
    }

    public long count() {
        return n;
    }

    /** NaN with no examples. */
    public double mse() {
        return n == 0 ? Double.NaN : squaredError.dividedBy(n);
    }

    /** NaN with no examples. */
    public double mae() {
        return n == 0 ? Double.NaN : absoluteError.dividedBy(n);
    }

    /**
     * Pearson's r = (nΣxy − ΣxΣy) / sqrt((nΣx² − (Σx)²)(nΣy² − (Σy)²)), clipped to [−1, 1] as scipy does; NaN when
     * either side is constant (scipy warns and returns NaN too).
     */
    public double pearson() {
        BigDecimal bn = BigDecimal.valueOf(n);
        BigDecimal sx = sumPred.exact();
        BigDecimal sy = sumLabel.exact();
        BigDecimal cov = bn.multiply(sumCross.exact()).subtract(sx.multiply(sy));
        BigDecimal varX = bn.multiply(sumPredSq.exact()).subtract(sx.multiply(sx));
        BigDecimal varY = bn.multiply(sumLabelSq.exact()).subtract(sy.multiply(sy));
        if (n < 2 || varX.signum() <= 0 || varY.signum() <= 0) return Double.NaN;
        BigDecimal root = varX.multiply(varY).sqrt(MathContext.DECIMAL128);
        double r = cov.divide(root, MathContext.DECIMAL128).doubleValue();
        return Math.max(-1.0, Math.min(1.0, r));
    }

    /** mse, rmse, mae, pearsonr. */
    @Override
    public Map<String, Double> compute() {
        Map<String, Double> out = new LinkedHashMap<>();
        double mse = mse();
        out.put("mse", mse);
        out.put("rmse", Math.sqrt(mse));
        out.put("mae", mae());
        out.put("pearsonr", pearson());
        return out;
    }

    @Override
    public RegressionState merge(RegressionState o) {
        return new RegressionState(
                n + o.n,
                squaredError.plus(o.squaredError),
                absoluteError.plus(o.absoluteError),
                sumPred.plus(o.sumPred),
                sumLabel.plus(o.sumLabel),
                sumPredSq.plus(o.sumPredSq),
                sumLabelSq.plus(o.sumLabelSq),
                sumCross.plus(o.sumCross));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RegressionState s
                && s.n == n
                && s.squaredError.equals(squaredError)
                && s.absoluteError.equals(absoluteError)
                && s.sumPred.equals(sumPred)
                && s.sumLabel.equals(sumLabel)
                && s.sumPredSq.equals(sumPredSq)
                && s.sumLabelSq.equals(sumLabelSq)
                && s.sumCross.equals(sumCross);
    }

    @Override
    public int hashCode() {
        return Objects.hash(n, squaredError, absoluteError, sumPred, sumLabel, sumPredSq, sumLabelSq, sumCross);
    }

    @Override
    public String toString() {
        return "RegressionState[n=" + n + "]";
    }
}
