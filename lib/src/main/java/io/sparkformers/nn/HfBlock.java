package io.sparkformers.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;

/** Base of our module blocks: DJL's AbstractBlock plus a one-line way to call a child on arrays. */
public abstract class HfBlock extends AbstractBlock {

    private static final byte VERSION = 1;

    protected HfBlock() {
        super(VERSION);
    }

    /**
     * {@code child(xs...)} returning its first output, passing {@code training} down; an {@link AdapterStore} adds its
     * adapter's path to a one-input layer it adapts (LoRA with dropout on the adapter's input).
     */
    protected static NDArray call(Block child, ParameterStore ps, boolean training, NDArray... xs) {
        NDArray y = child.forward(ps, new NDList(xs), training).head();
        return xs.length == 1 ? AdapterStore.afterLayer(ps, child, xs[0], y, training) : y;
    }
}
