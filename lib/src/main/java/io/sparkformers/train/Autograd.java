package io.sparkformers.train;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * The few PyTorch-engine autograd calls the optimizers need, kept in one place: DJL's engine-neutral API cannot
 * switch grad mode off outside a GradientCollector, and its {@code getGradient()} hides a missing gradient behind
 * a fresh array of zeros.
 */
final class Autograd {

    private Autograd() {}

    /**
     * Switches grad mode off for the calling thread until closed, then restores it. Optimizer updates are
     * in-place on leaf tensors that require grad; torch refuses that while grad mode is on (which it is by default in
     * new threads), and would record a graph for every temporary otherwise.
     */
    static AutoCloseableNoThrow noGrad() {
        boolean previous = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        return () -> JniUtils.setGradMode(previous);
    }

    /**
     * The gradient of {@code value}, aliasing autograd's {@code .grad} (in-place changes are seen by the next
     * read), or null when none was computed. The caller closes the returned handle; the storage lives on.
     */
    static NDArray gradientOf(NDArray value) {
        if (value instanceof PtNDArray pt) return JniUtils.getGradient(pt);
        return value.hasGradient() ? value.getGradient() : null;
    }

    /** Zeroes the accumulated gradient of {@code value} in place; a no-op when it has none. */
    static void zeroGrad(NDArray value) {
        if (!(value instanceof PtNDArray pt)) {
            throw new UnsupportedOperationException("zeroGrad needs the PyTorch engine but got " + value.getClass());
        }
        JniUtils.zeroGrad(pt);
    }

    /** AutoCloseable whose close() throws nothing, for try-with-resources without a catch. */
    interface AutoCloseableNoThrow extends AutoCloseable {
        @Override
        void close();
    }
}
