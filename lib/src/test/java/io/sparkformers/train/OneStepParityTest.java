package io.sparkformers.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.ParameterNames;
import io.sparkformers.nn.Task;
import io.sparkformers.train.DataCollatorWithPadding.LabelKind;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The first optimizer step of masked-LM and causal-LM training equals PyTorch's as HF Trainer takes it (fixed batch
 * and masks, dropout off, HF's loss, clip_grad_norm_ 1.0, AdamW lr 1e-3 with HF's weight-decay groups): loss, gradient
 * norm, the loss after the step and updated parameters, against {@code src/test/python/make_one_step_references.py}.
 */
class OneStepParityTest {

    static {
        System.setProperty("ai.djl.offline", "true");
    }

    private static final Path DIR = Path.of("src/test/resources/onestep");

    @Test
    void maskedLmFirstStepEqualsTorch() throws IOException {
        check(DIR.resolve("bert-mlm"), Task.MASKED_LM, TrainingLoss.maskedLanguageModeling(), "masked_lm");
    }

    @Test
    void causalLmFirstStepEqualsTorch() throws IOException {
        check(
                CausalLanguageModelingTrainingTest.TOKENIZER,
                Task.CAUSAL_LM,
                TrainingLoss.causalLanguageModeling(),
                "causal_lm");
    }

    private static void check(Path model, Task task, TrainingLoss loss, String key) throws IOException {
        JsonNode ref = Json.readObject(DIR.resolve("references.json")).get(key);
        long[] ids = longs(ref.get("input_ids"));
        long[] mask = longs(ref.get("attention_mask"));
        long[] labels = longs(ref.get("labels"));
        int b = ref.get("input_ids").size();
        int t = ids.length / b;
        int[] lengths = new int[b];
        for (int i = 0; i < mask.length; i++) lengths[i / t] += (int) mask[i];
        // TrainStep hands a model (ids, mask, third); BERT reads the third as token_type_ids (zeros), GPT-2 as
        // position_ids, which transformers numbers 0..T-1 when none are given
        long[] third = new long[ids.length];
        if (task == Task.CAUSAL_LM) for (int i = 0; i < third.length; i++) third[i] = i % t;
        DataCollatorWithPadding.Batch batch = new DataCollatorWithPadding.Batch(
                b, t, ids, mask, third, lengths, LabelKind.TOKEN, labels, new float[0], new long[] {b, t});
        try (HfModel m = HfModel.fromPretrained(
                        HfCheckpoint.open(model),
                        task,
                        Device.cpu(),
                        c -> c.put("hidden_dropout_prob", 0.0)
                                .put("attention_probs_dropout_prob", 0.0)
                                .put("resid_pdrop", 0.0)
                                .put("embd_pdrop", 0.0)
                                .put("attn_pdrop", 0.0));
                AdamW adamw = new AdamW(ParamGroup.hfDefaults(1e-3, 0.01))) {
            List<ParamRef> params = new ArrayList<>();
            for (ParameterNames.Entry e : ParameterNames.of(m.block()).values()) {
                params.add(new ParamRef(e.name(), e.parameter().getArray()));
            }
            TrainStep step = new TrainStep(m.block(), m.manager(), loss, false, params);
            double before = step.forwardBackward(batch, 1.0, 0).loss();
            double gradNorm = step.applyUpdate(adamw, 1.0, 1.0);
            double after = step.forwardBackward(batch, 1.0, 1).loss();
            close(before, ref.get("loss").asDouble(), 1e-5, key + " loss");
            close(gradNorm, ref.get("grad_norm").asDouble(), 1e-5, key + " grad_norm");
            close(after, ref.get("loss_after_step").asDouble(), 1e-5, key + " loss after the step");
            Map<String, ParameterNames.Entry> byName = ParameterNames.of(m.block());
            for (var e : ref.get("params_after_step").properties()) {
                ParameterNames.Entry p = byName.get(e.getKey());
                assertTrue(p != null, "no parameter " + e.getKey() + " in " + byName.keySet());
                float[] ours = p.parameter().getArray().toFloatArray();
                double worst = 0;
                for (int i = 0; i < ours.length; i++) {
                    worst = Math.max(
                            worst, Math.abs(ours[i] - e.getValue().get(i).asDouble()));
                }
                assertEquals(e.getValue().size(), ours.length, e.getKey());
                assertTrue(worst <= 1e-5, key + " " + e.getKey() + " after the step: max |diff| = " + worst);
            }
        }
    }

    private static void close(double actual, double expected, double rel, String what) {
        assertTrue(
                Math.abs(actual - expected) <= rel * Math.abs(expected),
                what + ": " + actual + " vs torch " + expected);
    }

    private static long[] longs(JsonNode rows) {
        List<Long> v = new ArrayList<>();
        for (JsonNode r : rows) for (JsonNode x : r) v.add(x.asLong());
        return v.stream().mapToLong(Long::longValue).toArray();
    }
}
