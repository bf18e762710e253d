package io.sparkformers.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import io.sparkformers.nn.Losses;
import io.sparkformers.nn.NativeArrays;

/**
 * HF's {@code trainer_pt_utils.LabelSmoother} ({@code label_smoothing_factor} ε): with log-probabilities lp over C
 * classes and the active (label ≠ -100) positions A,
 * {@code (1 − ε)·mean_A(−lp[label]) + ε·sum_A(−Σ_c lp_c) / (|A|·C)}. Applies to single-label and token
 * classification, where HF applies it.
 */
public final class LabelSmoother {
    private LabelSmoother() {}

    /**
     * @param logits  (…, C)
     * @param labels  (…) class ids, -100 where the loss does not look
     * @param epsilon the smoothing factor in [0, 1)
     */
    public static NDArray loss(NDArray logits, NDArray labels, double epsilon) {
        long c = logits.getShape().get(logits.getShape().dimension() - 1);
        NDArray negLogp = logits.reshape(-1, c).logSoftmax(-1).neg(); // (N, C)
        NDArray y = labels.reshape(-1).toType(DataType.INT64, false); // (N)
        NDArray active = y.neq(Losses.IGNORE_INDEX);
        NDArray mask = active.toType(negLogp.getDataType(), false); // (N)
        NDArray safe = y.mul(active.toType(DataType.INT64, false)); // ignored -> class 0
        NDArray nll = negLogp.gather(safe.expandDims(1), 1).squeeze(1).mul(mask); // (N)
        NDArray smoothed = negLogp.sum(new int[] {1}).mul(mask); // (N)
        NDArray numActive = mask.sum();
        NDArray nllLoss = nll.sum().div(numActive);
        NDArray smoothLoss = smoothed.sum().div(NativeArrays.mul(numActive, (float) c));
        return NativeArrays.mul(nllLoss, (float) (1 - epsilon)).add(NativeArrays.mul(smoothLoss, (float) epsilon));
    }
}
