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
 * One post-LayerNorm encoder layer (HF {@code BertLayer} with hidden_act "gelu") at FP32 inference as a single call
 * into libtorch: a scripted module, {@code bert_layer.pt} (written by {@code lib/src/main/python/make_bert_layer.py}),
 * runs the fused q/k/v GEMM, torch's scaled_dot_product_attention, the output projection with its residual and
 * LayerNorm, the oneDNN up-projection with GELU as its post-op, and the down-projection with its residual and
 * LayerNorm — the same kernels the block-by-block path calls ({@link FusedProjection}, {@link SdpaKernel},
 * {@link LinearGelu}, {@link InferenceLinear}), without the ~10 DJL operators per layer between them (a JNI call, an
 * NDArray wrapper and a native handle each). The layer's weights go in once per model as one list ({@link #prepare}),
 * so a call passes three arrays. CPU only; where the module cannot run, the first use says so in one log line and
 * {@link #available} answers false, so callers keep the block-by-block path. The system property
 * {@code sparkformers.encoderLayerKernel=false} turns it off (the block-by-block path), read at each call so that a
 * benchmark can compare the two paths in one process.
 */
public final class EncoderLayerKernel {
    private EncoderLayerKernel() {}

    private static final class Kernel {
        static final NDManager MANAGER = NDManager.newBaseManager(Device.cpu());
        static final NDArray NO_MASK = MANAGER.create(new float[0]);
        static final PtSymbolBlock MODULE = ScriptedKernels.loadOptional(
                "bert_layer.pt",
                MANAGER,
                Kernel::selfCheck,
                "encoder layer: scripted kernel unavailable, running the layer block by block");

        /**
         * H = 2, one head, one token x = (1, -1); every weight 0, biases 0, LayerNorm weights 1, first LayerNorm bias
         * (0.5, 0.5), second 0: attention adds 0, so a = LN(x) + 0.5 = (1.5, -0.5); the FFN adds 0 again, so the output
         * is LN(a) = (1, -1) (to within eps).
         */
        private static void selfCheck(PtSymbolBlock m) {
            try (NDManager s = MANAGER.newSubManager();
                    NoGrad g = NoGrad.enter()) {
                NDArray z22 = s.zeros(new Shape(2, 2));
                NDArray z2 = s.zeros(new Shape(2));
                NDArray one = s.ones(new Shape(2));
                NDArray half = one.mul(0.5f);
                NDArray[] w = {
                    s.zeros(new Shape(6, 2)),
                    s.zeros(new Shape(6)),
                    z22,
                    z2,
                    one,
                    half,
                    LinearGelu.pack(z22),
                    z2,
                    z22,
                    z2,
                    one,
                    z2
                };
                try (Weights ws = new Weights(1, 1e-12, w, new NDArray[0])) {
                    float[] y = run(m, s.create(new float[] {1, -1}, new Shape(1, 1, 2)), NO_MASK, ws, s)
                            .toFloatArray();
                    if (Math.abs(y[0] - 1) > 1e-5f || Math.abs(y[1] + 1) > 1e-5f) {
                        throw new IllegalStateException("self-check gave " + java.util.Arrays.toString(y));
                    }
                }
            }
        }
    }

    /** Whether the kernel runs on {@code device} (CPU, and the module loaded and passed its self-check). */
    public static boolean available(Device device) {
        return Device.Type.CPU.equals(device.getDeviceType())
                && Kernel.MODULE != null
                && !"false".equals(System.getProperty("sparkformers.encoderLayerKernel"));
    }

    /**
     * One layer's weights as the module takes them, held natively as one list; closing it frees the list and the
     * derived arrays given as {@code owned} (never the parameters themselves).
     */
    public static final class Weights implements AutoCloseable {
        private final IValue list;
        private final IValue heads;
        private final IValue eps;
        private final NDArray[] owned;

        private Weights(int numHeads, double layerNormEps, NDArray[] weights, NDArray[] owned) {
            PtNDArray[] w = new PtNDArray[weights.length];
            for (int i = 0; i < w.length; i++) w[i] = (PtNDArray) weights[i];
            this.list = IValue.listFrom(w);
            this.heads = IValue.from((long) numHeads);
            this.eps = IValue.from(layerNormEps);
            this.owned = owned;
        }

        @Override
        public void close() {
            list.close();
            heads.close();
            eps.close();
            for (NDArray a : owned) a.close();
        }
    }

    /**
     * The weights of one layer for {@link #forward}.
     *
     * @param weights {Wqkv (3H, H) as {@link FusedProjection#build} returns it (query scale folded in), bqkv (3H),
     *                Wo (H, H) as {@link InferenceLinear#transposedCopy}, bo, LayerNorm 1 weight and bias, Wi from
     *                {@link LinearGelu#pack}, bi (I), Wd (H, I) as {@link InferenceLinear#transposedCopy}, bd,
     *                LayerNorm 2 weight and bias}, float32
     * @param owned   the derived ones among them, closed with the result
     */
    public static Weights prepare(int numHeads, double layerNormEps, NDArray[] weights, NDArray... owned) {
        if (weights.length != 12)
            throw new IllegalArgumentException("an encoder layer has 12 weights, got " + weights.length);
        return new Weights(numHeads, layerNormEps, weights, owned);
    }

    /**
     * The layer's output.
     *
     * @param x    (B, T, H) float32
     * @param mask additive (B, 1, 1, T), or null when nothing is padding
     * @return (B, T, H), attached to x's manager (an inference tensor: do not update it in place)
     */
    public static NDArray forward(NDArray x, NDArray mask, Weights weights) {
        return run(Kernel.MODULE, x, mask == null ? Kernel.NO_MASK : mask, weights, x.getManager());
    }

    private static NDArray run(PtSymbolBlock module, NDArray x, NDArray mask, Weights w, NDManager owner) {
        IValue xi = IValue.from((PtNDArray) x);
        IValue mi = IValue.from((PtNDArray) mask);
        try (IValue out = module.forward(new IValue[] {xi, mi, w.heads, w.eps, w.list})) {
            return out.toTensor((PtNDManager) owner);
        } finally {
            xi.close();
            mi.close();
        }
    }
}
