package io.sparkformers.nn;

import ai.djl.pytorch.jni.JniUtils;

/**
 * PyTorch's {@code torch.no_grad()} for the current thread. Grad mode is thread-local and ON in every new thread,
 * so inference must enter this scope or every forward builds an autograd graph that holds all activations.
 * <pre>{@code try (NoGrad g = NoGrad.enter()) { ... }}</pre>
 */
public final class NoGrad implements AutoCloseable {

    private final boolean previous;

    private NoGrad(boolean previous) {
        this.previous = previous;
    }

    /** Turns grad mode off for this thread until {@link #close()}, which restores the previous mode. */
    public static NoGrad enter() {
        boolean prev = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        return new NoGrad(prev);
    }

    /** Whether PyTorch records operations for autograd in this thread. */
    public static boolean isGradMode() {
        return JniUtils.isGradMode();
    }

    @Override
    public void close() {
        JniUtils.setGradMode(previous);
    }
}
