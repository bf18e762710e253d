package io.sparkformers.nn;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;

/**
 * FP32 inference's GELU(x W^T + b) (HF "gelu", the erf form) as one oneDNN GEMM with the GELU applied as its post-op,
 * computed by libtorch inside a scripted module, {@code linear_gelu.pt} (written by
 * {@code lib/src/main/python/make_linear_gelu.py}). libtorch's separate {@code gelu} pass costs about 40% of the
 * up-projection's GEMM at BERT-small sizes on one thread (all-MiniLM-L6-v2, 128 tokens × 1536: 0.58 ms of 2.04 ms),
 * where oneDNN applies it to each output block while it is still in cache (the pair: 2.04 → 1.70 ms). The weight is
 * reordered once per model into oneDNN's blocked layout ({@link #pack}); the array that returns is opaque to DJL and
 * is only ever passed back to {@link #apply}. CPU only: where the module cannot run (a libtorch without oneDNN), the
 * first use says so in one log line and {@link #available} answers false, so callers keep the separate ops.
 */
public final class LinearGelu {
    private LinearGelu() {}

    private static final System.Logger LOG = System.getLogger(LinearGelu.class.getName());

    private static final class Kernel {
        static final NDManager MANAGER = NDManager.newBaseManager(Device.cpu());
        static final PtSymbolBlock MODULE = ScriptedKernels.loadOptional(
                "linear_gelu.pt",
                MANAGER,
                Kernel::selfCheck,
                "FFN: oneDNN linear+GELU kernel unavailable, using linear then gelu");

        /** One tiny product through both ops, so that a libtorch lacking the oneDNN ops fails here, not in a forward. */
        private static void selfCheck(PtSymbolBlock m) {
            try (NDManager s = MANAGER.newSubManager();
                    NoGrad g = NoGrad.enter()) {
                NDArray x = s.ones(new ai.djl.ndarray.types.Shape(2, 3));
                NDArray w = s.ones(new ai.djl.ndarray.types.Shape(4, 3));
                NDArray b = s.zeros(new ai.djl.ndarray.types.Shape(4));
                NDArray y = run(m, 1, x, run(m, 0, w, w, w, s), b, s); // gelu(3) = 2.99595...
                float v = y.toFloatArray()[0];
                if (Math.abs(v - 2.9959502f) > 1e-5f) {
                    throw new IllegalStateException("self-check gave gelu(3) = " + v);
                }
            }
        }
    }

    /** Whether the fused kernel runs on {@code device} (CPU, and the module loaded and passed its self-check). */
    public static boolean available(Device device) {
        return Device.Type.CPU.equals(device.getDeviceType()) && Kernel.MODULE != null;
    }

    /**
     * {@code weight} (out, in) float32 reordered once into oneDNN's layout, attached to {@code weight}'s manager;
     * opaque to DJL (pass it only to {@link #apply} or, as a layer weight, to {@link EncoderLayerKernel#prepare}).
     */
    public static NDArray pack(NDArray weight) {
        return run(Kernel.MODULE, 0, weight, weight, weight, weight.getManager());
    }

    /**
     * GELU(x W^T + b), float32.
     *
     * @param x      (..., in) float32
     * @param packed the weight from {@link #pack}
     * @param bias   (out) float32
     * @return (..., out), attached to x's manager (an inference tensor: do not update it in place)
     */
    public static NDArray apply(NDArray x, NDArray packed, NDArray bias) {
        return run(Kernel.MODULE, 1, x, packed, bias, x.getManager());
    }

    private static NDArray run(PtSymbolBlock module, long op, NDArray x, NDArray w, NDArray b, NDManager owner) {
        IValue[] in = {
            IValue.from(op), IValue.from((PtNDArray) x), IValue.from((PtNDArray) w), IValue.from((PtNDArray) b)
        };
        try (IValue out = module.forward(in)) {
            return out.toTensor((PtNDManager) owner);
        } finally {
            for (IValue v : in) v.close();
        }
    }
}
