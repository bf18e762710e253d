package io.sparkformers.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/** The losses HF heads compute from {@code labels}, with PyTorch's defaults (mean reduction). */
public final class Losses {

    /** PyTorch {@code CrossEntropyLoss}'s default {@code ignore_index}: tokens labelled -100 do not count. */
    public static final long IGNORE_INDEX = -100;

    private Losses() {}

    /**
     * {@code CrossEntropyLoss()(logits.view(-1, C), labels.view(-1))}: mean over the labels that are not
     * {@link #IGNORE_INDEX}.
     *
     * @param logits (..., C) float
     * @param labels (...) integer class ids
     */
    public static NDArray crossEntropy(NDArray logits, NDArray labels) {
        long numClasses = logits.getShape().get(logits.getShape().dimension() - 1);
        NDArray logp = logits.reshape(-1, numClasses).logSoftmax(-1); // (N, C)
        NDArray y = labels.reshape(-1).toType(DataType.INT64, false); // (N)
        NDArray keep = y.neq(IGNORE_INDEX);
        NDArray safe = y.mul(keep.toType(DataType.INT64, false)); // ignored -> class 0
        NDArray picked = logp.gather(safe.expandDims(1), 1).squeeze(1); // (N)
        NDArray mask = keep.toType(logp.getDataType(), false);
        return picked.mul(mask).sum().neg().div(mask.sum());
    }

    /** {@code BCEWithLogitsLoss()}: mean over all elements, in the stable form max(x,0) - x*y + log(1+e^-|x|). */
    public static NDArray bceWithLogits(NDArray logits, NDArray labels) {
        NDArray y = labels.toType(logits.getDataType(), false);
        NDArray x = logits;
        return x.maximum(0).sub(x.mul(y)).add(x.abs().neg().exp().add(1f).log()).mean();
    }

    /** {@code MSELoss()}: mean squared error over all elements. */
    public static NDArray mse(NDArray predictions, NDArray targets) {
        NDArray d = predictions.sub(targets.toType(predictions.getDataType(), false));
        return d.mul(d).mean();
    }
}
