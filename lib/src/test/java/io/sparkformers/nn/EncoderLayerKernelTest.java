package io.sparkformers.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.sparkformers.nn.bert.BertConfig;
import io.sparkformers.nn.bert.BertModel;
import io.sparkformers.safetensors.Tensor;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The whole-layer FP32 inference kernel ({@link EncoderLayerKernel}, {@code bert_layer.pt}) that BertLayer runs
 * against the block-by-block path it replaces (fused projection, SDPA, linear+GELU, LayerNorm as separate calls; that
 * path is itself checked against ONNX Runtime and a plain-Java forward), with padding, and again after the weights
 * change in place. The kernel's own end-to-end checks are the encoder parity suites (OnnxRuntimeParityTest,
 * HandComputedForwardTest, EncoderOutputsParityTest), which now run through it.
 */
class EncoderLayerKernelTest {

    private static final String SWITCH = "sparkformers.encoderLayerKernel";

    @Test
    void kernelLoadsOnThisCpu() {
        assertTrue(EncoderLayerKernel.available(Device.cpu()), "bert_layer.pt should load and pass its self-check");
    }

    @Test
    void layerKernelEqualsBlockByBlockWithPaddingAndAfterAWeightChange() {
        BertConfig c = BertConfig.tiny();
        long[] ids = {2, 5, 1, 6, 9, 11, 3, 4, 7, 8, 10, 12, 13, 14};
        long[] mask = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0}; // row 1: 3 real tokens, 4 padding
        long[] types = new long[ids.length];
        try (NDManager m = NDManager.newBaseManager()) {
            BertModel model = new BertModel(c, false);
            model.initialize(m);
            for (double scale : new double[] {0.8, 0.3}) {
                Map<String, Tensor> w = TestWeights.deterministic(model, scale);
                assertTrue(StateDict.load(model, w, StateDict.Options.STRICT).isExact());
                NDList in = new NDList(
                        m.create(ids, new Shape(2, 7)),
                        m.create(mask, new Shape(2, 7)),
                        m.create(types, new Shape(2, 7)));
                float[] kernel = model.predict(in).head().toFloatArray(); // (2, 7, H)
                float[] blocks;
                System.setProperty(SWITCH, "false");
                try {
                    blocks = model.predict(in).head().toFloatArray();
                } finally {
                    System.clearProperty(SWITCH);
                }
                double max = 0;
                for (int i = 0; i < kernel.length; i++) {
                    if (i / 7 / c.hiddenSize() == 1 && (i / c.hiddenSize()) % 7 >= 3) continue; // padding rows
                    max = Math.max(max, Math.abs(kernel[i] - blocks[i]));
                }
                assertTrue(max <= 1e-5, "weights scale " + scale + ": max |kernel - blocks| = " + max);
            }
        }
    }

    @Test
    void bf16LayerKernelStaysWithinBf16AccuracyOfFp32() {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                ComputeDtype.fastBf16(Device.cpu()), "this CPU has no fast BF16 (AVX512-BF16 or AMX)");
        assertTrue(EncoderLayerKernel.availableBf16(Device.cpu()), "the BF16 layer should pass its self-check here");
        BertConfig c = BertConfig.tiny();
        long[] ids = {2, 5, 1, 6, 9, 11, 3, 4, 7, 8, 10, 12, 13, 14};
        long[] mask = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0};
        long[] types = new long[ids.length];
        try (NDManager m = NDManager.newBaseManager()) {
            BertModel model = new BertModel(c, false);
            model.initialize(m);
            assertTrue(StateDict.load(model, TestWeights.deterministic(model, 0.8), StateDict.Options.STRICT)
                    .isExact());
            NDList in = new NDList(
                    m.create(ids, new Shape(2, 7)), m.create(mask, new Shape(2, 7)), m.create(types, new Shape(2, 7)));
            float[] fp32 = model.predict(in).head().toFloatArray(); // (2, 7, H)
            DerivedWeights.computeIn(model, ComputeDtype.BF16);
            float[] kernel = model.predict(in).head().toFloatArray();
            float[] blocks;
            System.setProperty(SWITCH, "false");
            try {
                blocks = model.predict(in).head().toFloatArray();
            } finally {
                System.clearProperty(SWITCH);
            }
            int h = c.hiddenSize();
            double minCos = 1;
            double maxDiff = 0;
            for (int t = 0; t < 14; t++) {
                if (mask[t] == 0) continue;
                double dot = 0, nf = 0, nk = 0;
                for (int i = t * h; i < (t + 1) * h; i++) {
                    dot += (double) fp32[i] * kernel[i];
                    nf += (double) fp32[i] * fp32[i];
                    nk += (double) kernel[i] * kernel[i];
                    maxDiff = Math.max(maxDiff, Math.abs(kernel[i] - blocks[i]));
                }
                minCos = Math.min(minCos, dot / Math.sqrt(nf * nk));
            }
            assertTrue(minCos >= 0.999, "min per-token cosine BF16 kernel vs FP32 = " + minCos);
            // the block path rounds the attention and GELU in float32, the kernel in bfloat16: BF16 rounding apart
            assertTrue(maxDiff <= 0.05, "max |BF16 kernel - BF16 blocks| = " + maxDiff);
            assertTrue(maxDiff > 0, "the BF16 kernel should have run (it differs from the block path in rounding)");
        }
    }
}
