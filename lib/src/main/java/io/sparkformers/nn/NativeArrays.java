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
}
