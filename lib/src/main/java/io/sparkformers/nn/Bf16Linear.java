package io.sparkformers.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;

/**
 * The BF16 GEMM of BF16 inference ({@link ComputeDtype}): y = x W^T + b with W and b held in bfloat16 and x, y in
 * float32, computed by libtorch (oneDNN's BF16 kernels, float32 accumulation) inside a scripted module,
 * {@code bf16_linear.pt} (written by {@code lib/src/main/python/make_bf16_linear.py}). DJL's PyTorch engine cannot
 * name bfloat16 — asking it for that dtype, by {@code toType} or any creation, aborts the JVM — so the conversions
 * happen on the native side inside the module, and the BF16 arrays it returns are opaque to DJL (their dtype reads
 * "unknown"): they are only ever passed back to this class, never to a DJL operator.
 */
public final class Bf16Linear {
    private Bf16Linear() {}

    private static final class Kernel {
        static final NDManager MANAGER = NDManager.newBaseManager(ai.djl.Device.cpu());
        static final PtSymbolBlock MODULE = ScriptedKernels.load("bf16_linear.pt", MANAGER);
    }

    /**
     * {@code a} (a weight or bias, float32) converted once to contiguous bfloat16 by libtorch, attached to
     * {@code a}'s manager; opaque to DJL (pass it only to {@link #apply}).
     */
    public static NDArray toBf16(NDArray a) {
        return run(0, a, a, a, a.getManager());
    }

    /**
     * x W^T + b in BF16 with float32 accumulation.
     *
     * @param x      (..., in) float32
     * @param weight (out, in) from {@link #toBf16}
     * @param bias   (out) from {@link #toBf16}
     * @return (..., out) float32, attached to x's manager
     */
    public static NDArray apply(NDArray x, NDArray weight, NDArray bias) {
        return run(1, x, weight, bias, x.getManager());
    }

    private static NDArray run(long op, NDArray x, NDArray w, NDArray b, NDManager owner) {
        IValue[] in = {
            IValue.from(op), IValue.from((PtNDArray) x), IValue.from((PtNDArray) w), IValue.from((PtNDArray) b)
        };
        try (IValue out = Kernel.MODULE.forward(in)) {
            return out.toTensor((PtNDManager) owner);
        } finally {
            for (IValue v : in) v.close();
        }
    }
}
