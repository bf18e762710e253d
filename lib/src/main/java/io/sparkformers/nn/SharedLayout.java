package io.sparkformers.nn;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;

/**
 * Weights of several projections of one input (out_i, in) moved, in place, into one row-major (in, Σ out_i) storage:
 * each weight becomes a column block of it (same values, shape, name and autograd identity; its old storage is freed),
 * and the (Σ out_i, in) view over the whole storage runs the projections as ONE GEMM in the layout MKL's kernels read
 * without repacking. Unlike {@link InferenceLinear}'s and {@link FusedProjection}'s derived copies this costs no
 * memory, which generation's budget (weights + KV cache + 20%) needs.
 *
 * <p>Why it matters: with PyTorch's (out, in) layout MKL repacks the whole weight on every call; at the few rows of a
 * decode step (batch × 1 token) that repack costs as much as the product and does not scale with threads. Measured on
 * an AMD EPYC, one (16, 512) × (512, 1376) product, 1 thread: 672 → 228 µs (min of 7 rounds); the fused q/k/v and
 * gate/up GEMMs save a call each as well.
 *
 * <p>Run by libtorch inside {@code shared_layout.pt} (written by {@code lib/src/main/python/make_shared_layout.py}),
 * since DJL cannot name {@code Tensor.set_}. CPU only; where the module cannot run, the first use says so in one log
 * line and {@link #available} answers false, so callers keep their per-projection path.
 */
public final class SharedLayout {
    private SharedLayout() {}

    private static final class Kernel {
        static final NDManager MANAGER = NDManager.newBaseManager(Device.cpu());
        static final PtSymbolBlock MODULE = ScriptedKernels.loadOptional(
                "shared_layout.pt",
                MANAGER,
                Kernel::selfCheck,
                "linear: shared weight layout unavailable, each projection keeps its own GEMM");

        /** Two weights (2, 1) and (1, 1): fused (3, 1) = their rows, the weights unchanged. */
        private static void selfCheck(PtSymbolBlock m) {
            try (NDManager s = MANAGER.newSubManager();
                    NoGrad g = NoGrad.enter()) {
                NDArray a = s.create(new float[] {1, 2}, new Shape(2, 1));
                NDArray b = s.create(new float[] {3}, new Shape(1, 1));
                float[] f = run(m, new NDArray[] {a, b}, true, s).toFloatArray();
                float[] a2 = a.toFloatArray();
                if (f.length != 3 || f[0] != 1 || f[1] != 2 || f[2] != 3 || a2[0] != 1 || a2[1] != 2) {
                    throw new IllegalStateException("self-check gave " + java.util.Arrays.toString(f));
                }
            }
        }
    }

    /** Whether the layout can be shared on {@code device} (CPU, and the module loaded and passed its self-check). */
    public static boolean available(Device device) {
        return Device.Type.CPU.equals(device.getDeviceType()) && Kernel.MODULE != null;
    }

    /**
     * Moves {@code weights} into one shared storage as the class describes. Call with grad mode off; the weights must
     * be float32 (out_i, in) of one {@code in}, on the CPU.
     *
     * @return the (Σ out_i, in) view over the shared storage, attached to the first weight's manager (it keeps the
     *     storage alive with the weights)
     */
    public static NDArray share(NDArray... weights) {
        return run(Kernel.MODULE, weights, true, weights[0].getManager());
    }

    /**
     * Gives each of {@code weights} a contiguous storage of its own again (same values), as training's fused optimizer
     * needs ({@code AdamWKernel} updates contiguous memory only). Call with grad mode off.
     */
    public static void unshare(NDArray... weights) {
        run(Kernel.MODULE, weights, false, weights[0].getManager()).close();
    }

    private static NDArray run(PtSymbolBlock module, NDArray[] weights, boolean share, NDManager owner) {
        PtNDArray[] w = new PtNDArray[weights.length];
        for (int i = 0; i < w.length; i++) w[i] = (PtNDArray) weights[i];
        IValue[] in = {IValue.listFrom(w), IValue.from(share)};
        try (IValue out = module.forward(in)) {
            return out.toTensor((PtNDManager) owner);
        } finally {
            for (IValue v : in) v.close();
        }
    }
}
