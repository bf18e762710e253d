package io.sparkformers.nn;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import io.sparkformers.runtime.Settings;

/**
 * One post-LayerNorm encoder layer (HF {@code BertLayer} with hidden_act "gelu") at FP32 or BF16 inference as a single
 * call into libtorch: a scripted module, {@code bert_layer.pt} (written by
 * {@code lib/src/main/python/make_bert_layer.py}), runs the fused q/k/v GEMM, torch's scaled_dot_product_attention, the
 * output projection with its residual and LayerNorm, the oneDNN up-projection with GELU as its post-op, and the
 * down-projection with its residual and LayerNorm — the kernels the block-by-block path calls ({@link FusedProjection},
 * {@link SdpaKernel}, {@link LinearGelu}, {@link InferenceLinear}), without the ~10 DJL operators per layer between
 * them (a JNI call, an NDArray wrapper and a native handle each). All four GEMMs run in oneDNN on weights reordered
 * once into its layout ({@link LinearGelu#pack}, {@link #packBf16}), where the block path runs three of them in MKL's
 * sgemm (FP32) or lets oneDNN reorder the BF16 weight on every call: in FP32 at a few dozen rows on two threads
 * oneDNN's prepacked GEMM ran the layer's shapes 1.3-3.4× faster (32 rows; the down-projection, K = 1536, the most) and
 * 3-9% faster at a thousand rows and more (AMD EPYC Zen 4, MKL on its Intel path,
 * {@link io.sparkformers.runtime.GemmPath}); below 8 rows MKL's GEMV is faster (0.78-0.95×), a shape an encoder over
 * tokens rarely has. In BF16 the GEMMs, the attention and the up-projection's GELU run in bfloat16 between the float32
 * residual sums and LayerNorms, where the block path converts to and from float32 around each GEMM and runs GELU as a
 * separate float32 pass. The layer's weights go in once per model as one list ({@link #prepare}), so a call passes
 * three arrays. Measured by {@code bench encoder-layer} (AMD EPYC Zen 4, MiniLM, 1-8 × 32-128, block path / kernel):
 * one thread (thread CPU time) FP32 0.99-1.04, BF16 1.11-1.28; two threads (wall) FP32 1.01-1.23, BF16 1.06-1.45
 * (median 1.16; 1.02-1.21, median 1.08, before its weights were prepacked). CPU only; where the module cannot run, the
 * first use says so in one log line and {@link #available} answers false, so callers keep the block-by-block path. The
 * {@link Settings} switch {@code sparkformers.encoderLayerKernel=false} (on executors
 * {@code SPARKFORMERS_ENCODER_LAYER_KERNEL=false}) turns it off (the block-by-block path), read at each call so that a
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
                NDArray half = s.full(new Shape(2), 0.5f);
                NDArray p22 = LinearGelu.pack(z22);
                NDArray[] w = {
                    LinearGelu.pack(s.zeros(new Shape(6, 2))),
                    s.zeros(new Shape(6)),
                    p22,
                    z2,
                    one,
                    half,
                    p22,
                    z2,
                    p22,
                    z2,
                    one,
                    z2
                };
                try (Weights ws = new Weights(1, 1e-12, false, w, new NDArray[0])) {
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
                && Settings.enabled("sparkformers.encoderLayerKernel");
    }

    /**
     * One layer's weights as the module takes them, held natively as one list; closing it frees the list and the
     * derived arrays given as {@code owned} (never the parameters themselves).
     */
    public static final class Weights implements AutoCloseable {
        private final IValue op;
        private final IValue list;
        private final IValue heads;
        private final IValue eps;
        private final NDArray[] owned;

        private Weights(int numHeads, double layerNormEps, boolean bf16, NDArray[] weights, NDArray[] owned) {
            PtNDArray[] w = new PtNDArray[weights.length];
            for (int i = 0; i < w.length; i++) w[i] = (PtNDArray) weights[i];
            this.op = IValue.from(bf16 ? 1L : 0L);
            this.list = IValue.listFrom(w);
            this.heads = IValue.from((long) numHeads);
            this.eps = IValue.from(layerNormEps);
            this.owned = owned;
        }

        @Override
        public void close() {
            op.close();
            list.close();
            heads.close();
            eps.close();
            for (NDArray a : owned) a.close();
        }
    }

    /**
     * The weights of one layer for {@link #forward}.
     *
     * @param weights {Wqkv (3H, H) (query scale folded in, as {@link FusedProjection#build} fuses it), bqkv (3H),
     *                Wo (H, H), bo, LayerNorm 1 weight and bias, Wi (I, H), bi (I), Wd (H, I), bd, LayerNorm 2 weight
     *                and bias}, float32, the four GEMM weights reordered by {@link LinearGelu#pack}
     *                In BF16 ({@code bf16}) the four GEMM weights come from {@link #packBf16} and the biases are
     *                bfloat16 ({@link Bf16Linear#toBf16}); the LayerNorm parameters stay float32
     * @param owned   the derived ones among them, closed with the result
     */
    public static Weights prepare(
            int numHeads, double layerNormEps, boolean bf16, NDArray[] weights, NDArray... owned) {
        if (weights.length != 12)
            throw new IllegalArgumentException("an encoder layer has 12 weights, got " + weights.length);
        return new Weights(numHeads, layerNormEps, bf16, weights, owned);
    }

    /**
     * {@code weight} (out, in), float32 or bfloat16, converted to bfloat16 and reordered once into oneDNN's layout,
     * attached to {@code weight}'s manager; opaque to DJL (pass it only to {@link #prepare}).
     */
    public static NDArray packBf16(NDArray weight) {
        try (IValue op = IValue.from(2L);
                IValue e = IValue.from((PtNDArray) Kernel.NO_MASK);
                IValue heads = IValue.from(0L);
                IValue eps = IValue.from(0.0);
                IValue w = IValue.listFrom((PtNDArray) weight);
                IValue out = Kernel.MODULE.forward(new IValue[] {op, e, e, heads, eps, w})) {
            return out.toTensor((PtNDManager) weight.getManager());
        }
    }

    /**
     * Whether the BF16 layer ({@link #prepare} with bf16) runs on {@code device}: {@link #available}, and one BF16
     * layer on the self-check's case gave its answer (a CPU whose oneDNN lacks BF16 kernels answers false).
     */
    public static boolean availableBf16(Device device) {
        return available(device) && Bf16Check.OK;
    }

    private static final class Bf16Check {
        static final boolean OK = check();

        /** The FP32 self-check's case in BF16: (1, -1) is exact in bfloat16. */
        private static boolean check() {
            try (NDManager s = Kernel.MANAGER.newSubManager();
                    NoGrad g = NoGrad.enter()) {
                NDArray z22 = s.zeros(new Shape(2, 2));
                NDArray one = s.ones(new Shape(2));
                NDArray z2b = Bf16Linear.toBf16(s.zeros(new Shape(2)));
                NDArray p22b = packBf16(z22);
                NDArray[] w = {
                    packBf16(s.zeros(new Shape(6, 2))),
                    Bf16Linear.toBf16(s.zeros(new Shape(6))),
                    p22b,
                    z2b,
                    one,
                    s.full(new Shape(2), 0.5f),
                    p22b,
                    z2b,
                    p22b,
                    z2b,
                    one,
                    s.zeros(new Shape(2))
                };
                try (Weights ws = new Weights(1, 1e-12, true, w, new NDArray[0])) {
                    float[] y = forward(s.create(new float[] {1, -1}, new Shape(1, 1, 2)), null, ws)
                            .toFloatArray();
                    if (Math.abs(y[0] - 1) > 1e-3f || Math.abs(y[1] + 1) > 1e-3f) {
                        throw new IllegalStateException("BF16 self-check gave " + java.util.Arrays.toString(y));
                    }
                }
                return true;
            } catch (RuntimeException e) {
                System.getLogger(EncoderLayerKernel.class.getName())
                        .log(
                                System.Logger.Level.INFO,
                                "encoder layer: BF16 kernel unavailable, running the layer block by block (" + e + ")");
                return false;
            }
        }
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
        try (IValue out = module.forward(new IValue[] {w.op, xi, mi, w.heads, w.eps, w.list})) {
            return out.toTensor((PtNDManager) owner);
        } finally {
            xi.close();
            mi.close();
        }
    }
}
