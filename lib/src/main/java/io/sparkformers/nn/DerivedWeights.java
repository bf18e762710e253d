package io.sparkformers.nn;

/**
 * A block that caches arrays computed from its parameters (a fused projection, say) for inference. Whoever writes
 * parameters in place outside a training forward (loading a checkpoint) calls {@link #weightsChanged()}; a training
 * forward drops the cache by itself, since the optimizer step that follows changes the weights.
 */
public interface DerivedWeights {

    /** Drops what was derived from the parameters; the next inference forward derives it again. */
    void weightsChanged();

    /**
     * Derives for inference in {@code dtype} (FP32 or BF16, see {@link ComputeDtype}) from now on, dropping what was
     * derived before; a block without a BF16 path ignores it (its model refuses BF16 first).
     */
    default void computeIn(ComputeDtype dtype) {}

    /** Calls {@link #computeIn} on every block of the tree under {@code root} that caches derived weights. */
    static void computeIn(ai.djl.nn.Block root, ComputeDtype dtype) {
        if (root instanceof DerivedWeights d) d.computeIn(dtype);
        for (ai.djl.nn.Block child : root.getChildren().values()) computeIn(child, dtype);
    }

    /** Calls {@link #weightsChanged()} on every block of the tree under {@code root} that caches derived weights. */
    static void changed(ai.djl.nn.Block root) {
        if (root instanceof DerivedWeights d) d.weightsChanged();
        for (ai.djl.nn.Block child : root.getChildren().values()) changed(child);
    }
}
