package io.sparkformers.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;

/**
 * Java values into arrays whose memory libtorch allocated, never into memory the JVM allocated.
 *
 * <p>DJL's PyTorch engine does not copy Java data into libtorch: {@code NDManager.create(float[])} copies it into a
 * direct ByteBuffer and wraps that buffer, and {@code NDArray.set(ByteBuffer)} re-points an existing tensor at the
 * buffer. Such a tensor lives in {@code malloc}'d JVM memory, 16-byte aligned at an address that changes from run
 * to run (its offset modulo 64 is 0, 16, 32 or 48 by chance), while libtorch's allocator always returns 64-byte
 * aligned memory. Some kernels sum in an order that depends on where their operands start (MKL's GEMM on AMD CPUs
 * does: on a Zen 4 the same (6, 64) x (64, 3) product came out in other bits with its first operand 4 or 8 bytes
 * past a 16-byte boundary), so a tensor in JVM memory can change the bits of a result from one run to the next, and
 * a run that resumed from loaded weights can differ from the run that created them in libtorch. Everything
 * that feeds a model (weights, buffers, optimizer state, pixel batches) therefore lands in libtorch's memory; the
 * JVM buffer is only a staging copy, freed right after.
 */
public final class NativeArrays {
    private NativeArrays() {}

    /** {@code values} as a float32 array of {@code shape} on {@code manager}, in memory libtorch allocated. */
    public static NDArray copyOf(NDManager manager, float[] values, Shape shape) {
        try (NDArray staged = manager.create(values, shape)) { // wraps a JVM direct buffer
            return staged.duplicate(); // torch clone: libtorch's memory
        }
    }

    /**
     * Overwrites {@code target} in place with {@code values} (native byte order, exactly {@code target}'s size and
     * type; a direct buffer, even a read-only memory map, is read where it is), keeping the storage libtorch
     * allocated for it: unlike {@code target.set(values)}, the tensor never aliases the buffer. Run with grad mode
     * off when {@code target} requires gradients.
     */
    public static void copyInto(NDArray target, ByteBuffer values) {
        try (NDManager scratch = target.getManager().newSubManager();
                NDArray staged = scratch.create(values, target.getShape(), target.getDataType())) {
            target.set(new NDIndex("..."), staged); // copy_, storage unchanged
        }
    }

    /**
     * {@code n} as a 0-dimensional array of the type {@code manager.create(n)} gives (Double: float64, Float:
     * float32, ...) in memory libtorch allocated.
     *
     * <p>Why: DJL's {@code x.mul(Number)} (likewise div, pow, maximum) wraps the number in a tensor over a JVM direct
     * buffer, multiplies, and closes that wrapper at once. Autograd keeps the scalar tensor for the backward pass
     * ({@code mul} saves its other operand, {@code pow} its exponent, {@code maximum} both), but the closed wrapper was
     * the only thing keeping its JVM buffer reachable: a garbage collection between the forward and the backward
     * frees it, and the backward reads freed memory — NaN or wrong gradients while the loss stays finite, more often
     * the more the JVM allocates (intermittent "gradient norm is NaN" of causal-LM training with GPT-2's vocabulary).
     * On a training path use {@link #mul}, {@link #div}, {@link #pow} and {@link #maximum} here instead.
     */
    public static NDArray scalar(NDManager manager, Number n) {
        try (NDArray staged = manager.create(n)) { // wraps a JVM direct buffer
            return staged.duplicate(); // torch clone: libtorch's memory, kept alive by autograd's own reference
        }
    }

    /** {@code x.mul(n)}, the same bits, with the scalar in libtorch's memory (safe under autograd: {@link #scalar}). */
    public static NDArray mul(NDArray x, Number n) {
        try (NDArray s = scalar(x.getManager(), n)) {
            return x.mul(s);
        }
    }

    /** {@code x.div(n)}, the same bits, with the scalar in libtorch's memory (safe under autograd: {@link #scalar}). */
    public static NDArray div(NDArray x, Number n) {
        try (NDArray s = scalar(x.getManager(), n)) {
            return x.div(s);
        }
    }

    /** {@code x.pow(n)}, the same bits, with the exponent in libtorch's memory (safe under autograd: {@link #scalar}). */
    public static NDArray pow(NDArray x, Number n) {
        try (NDArray s = scalar(x.getManager(), n)) {
            return x.pow(s);
        }
    }

    /** {@code x.maximum(n)}, the same bits, with the bound in libtorch's memory (safe under autograd: {@link #scalar}). */
    public static NDArray maximum(NDArray x, Number n) {
        try (NDArray s = scalar(x.getManager(), n)) {
            return x.maximum(s);
        }
    }
}
