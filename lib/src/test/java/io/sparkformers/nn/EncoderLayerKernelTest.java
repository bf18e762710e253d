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
}
