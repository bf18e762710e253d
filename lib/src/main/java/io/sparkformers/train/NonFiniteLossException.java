package io.sparkformers.train;

/**
 * Training stopped because the loss or the gradient norm of an optimizer step is NaN or infinite.
 *
 * <p>Decision: HF's Trainer keeps stepping and, with {@code logging_nan_inf_filter} (default true), only keeps such
 * losses out of the logged average — but one non-finite gradient turns AdamW's moments and then every weight into NaN,
 * so the steps after it train nothing and every later checkpoint is unusable. We stop instead, before the optimizer
 * applies the step: the weights in memory and every checkpoint already written hold finite values, and the newest
 * checkpoint stays the one to resume or load. {@code logging_nan_inf_filter} therefore has nothing left to filter
 * and is accepted as an HF key without effect. Under data parallelism the check reads the loss summed over ranks and
 * the all-reduced gradient norm, the same values on every rank, so every replica stops at the same step with no
 * extra message and none waits for a peer that left.
 */
public final class NonFiniteLossException extends IllegalStateException {

    private final long step;
    private final double value;

    /**
     * @param step         the optimizer step (1-based) whose loss or gradient norm is non-finite
     * @param what         "loss" or "gradient norm"
     * @param value        the value found
     * @param learningRate the peak learning rate of the run, named in the fix (NaN: unknown)
     * @param lastCheckpoint what became of the checkpoints ("the last checkpoint … stays loadable"), or null
     */
    public NonFiniteLossException(long step, String what, double value, double learningRate, String lastCheckpoint) {
        super("training stopped at step " + step + ": the " + what + " is " + value + " (not finite), so the step was "
                + "not applied" + (lastCheckpoint == null ? "" : "; " + lastCheckpoint) + ". Fix: lower learning_rate"
                + (Double.isNaN(learningRate) ? "" : " (now " + learningRate + ")")
                + " or set max_grad_norm, and check the labels "
                + "and inputs for NaN, Inf or out-of-range values");
        this.step = step;
        this.value = value;
    }

    /** The optimizer step (1-based) that was not applied. */
    public long step() {
        return step;
    }

    /** The non-finite loss or gradient norm. */
    public double value() {
        return value;
    }
}
