package io.sparkformers.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.nn.bert.BertConfig;
import io.sparkformers.nn.bert.BertForMaskedLM;
import io.sparkformers.nn.gpt2.GPT2Config;
import io.sparkformers.nn.gpt2.GPT2LMHeadModel;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/**
 * Gradient checkpointing gives the gradients of the plain backward (every parameter, relative error ≤ 1e-5) on tiny
 * BERT and GPT-2 masked/causal LMs, and its recompute reproduces the forward's dropout masks.
 */
class GradientCheckpointingTest {

    static {
        System.setProperty("ai.djl.offline", "true");
    }

    static BertForMaskedLM bert(double dropout) {
        ObjectNode json = BertConfig.tiny().toJson();
        json.put("hidden_dropout_prob", dropout).put("attention_probs_dropout_prob", dropout);
        json.put("num_hidden_layers", 3);
        return new BertForMaskedLM(BertConfig.fromJson(json));
    }

    static GPT2LMHeadModel gpt2(double dropout) {
        ObjectNode json = GPT2Config.tiny().toJson();
        json.put("resid_pdrop", dropout).put("embd_pdrop", dropout).put("attn_pdrop", dropout);
        json.put("n_layer", 3);
        return new GPT2LMHeadModel(GPT2Config.fromJson(json));
    }

    @Test
    void bertMaskedLmGradientsEqualThePlainBackward() {
        checkEqualGradients(bert(0.0), 100, true);
    }

    @Test
    void gpt2CausalLmGradientsEqualThePlainBackward() {
        checkEqualGradients(gpt2(0.0), 512, false);
    }

    @Test
    void recomputeDrawsTheForwardsDropoutMasks() {
        for (PretrainedModel model : new PretrainedModel[] {bert(0.3), gpt2(0.3)}) {
            try (NDManager m = NDManager.newBaseManager()) {
                JniUtils.setSeed(3);
                model.initialize(m);
                boolean isBert = model instanceof BertForMaskedLM;
                double[] diff = new double[1];
                Map<String, float[]> g = gradients(
                        model,
                        m,
                        isBert ? 100 : 512,
                        isBert,
                        tape -> {
                            if (tape != null) tape.checkRecompute();
                            return null;
                        },
                        true,
                        diff);
                assertEquals(0.0, diff[0], model.getClass().getSimpleName() + ": recomputed layer outputs differ");
                assertTrue(g.values().stream().allMatch(a -> a.length > 0));
            }
        }
    }

    private static void checkEqualGradients(PretrainedModel model, int vocab, boolean masked) {
        try (NDManager m = NDManager.newBaseManager()) {
            JniUtils.setSeed(11);
            model.initialize(m);
            Map<String, float[]> plain = gradients(model, m, vocab, masked, t -> null, false, new double[1]);
            Map<String, float[]> ckpt = gradients(model, m, vocab, masked, t -> null, true, new double[1]);
            assertEquals(plain.keySet(), ckpt.keySet());
            double worst = 0;
            String where = "";
            for (Map.Entry<String, float[]> e : plain.entrySet()) {
                float[] a = e.getValue();
                float[] b = ckpt.get(e.getKey());
                double num = 0, den = 0;
                for (int i = 0; i < a.length; i++) {
                    num += (a[i] - b[i]) * (double) (a[i] - b[i]);
                    den += a[i] * (double) a[i];
                }
                double rel = Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-12);
                if (rel > worst) {
                    worst = rel;
                    where = e.getKey();
                }
            }
            assertTrue(plain.size() > 20, "parameters with gradients: " + plain.size());
            assertTrue(worst <= 1e-5, "worst relative gradient error " + worst + " at " + where);
        }
    }

    /**
     * One forward + backward of a fixed batch (padding in row 1, labels -100 outside a few positions); returns every
     * parameter's gradient by name and zeroes them.
     */
    private static Map<String, float[]> gradients(
            PretrainedModel model,
            NDManager m,
            int vocab,
            boolean masked,
            java.util.function.Function<GradientCheckpointing, Void> onTape,
            boolean checkpoint,
            double[] recomputeDiff) {
        int b = 2, t = 12;
        long[] ids = new long[b * t];
        long[] mask = new long[b * t];
        long[] labels = new long[b * t];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (i * 37L + 5) % vocab;
            mask[i] = i >= t + 9 ? 0 : 1; // row 1 ends in 3 pads
            labels[i] = mask[i] == 0 || (masked && i % 3 != 0) ? -100 : (i * 11L + 1) % vocab;
        }
        BiFunction<NDArray, NDArray, NDArray> loss = masked
                ? Losses::crossEntropy
                : (logits, l) -> Losses.crossEntropy(logits.get(":, :{}", t - 1), l.get(":, 1:"));
        try (NDManager scope = m.newSubManager()) {
            NDList inputs = masked
                    ? new NDList(
                            scope.create(ids, new Shape(b, t)),
                            scope.create(mask, new Shape(b, t)),
                            scope.zeros(new Shape(b, t), ai.djl.ndarray.types.DataType.INT64))
                    : new NDList(scope.create(ids, new Shape(b, t)), scope.create(mask, new Shape(b, t)));
            JniUtils.setSeed(99);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector();
                    GradientCheckpointing tape = checkpoint ? GradientCheckpointing.begin(scope, 99) : null) {
                onTape.apply(tape);
                NDArray logits = model.forward(new ParameterStore(scope, false), inputs, true)
                        .head();
                gc.backward(loss.apply(logits, scope.create(labels, new Shape(b, t))));
                if (tape != null) {
                    assertEquals(3, tape.layers());
                    tape.backward();
                    recomputeDiff[0] = tape.maxRecomputeDiff();
                }
            }
        }
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Pair<String, Parameter> p : model.getParameters()) {
            PtNDArray value = (PtNDArray) p.getValue().getArray();
            NDArray g = JniUtils.getGradient(value);
            if (g == null) continue;
            out.put(p.getKey(), g.toFloatArray());
            g.close();
            JniUtils.zeroGrad(value);
        }
        return out;
    }
}
