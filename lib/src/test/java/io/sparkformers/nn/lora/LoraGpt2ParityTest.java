package io.sparkformers.nn.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.NoGrad;
import io.sparkformers.nn.PretrainedModel;
import io.sparkformers.nn.Task;
import io.sparkformers.safetensors.SafetensorsCheckpoint;
import io.sparkformers.safetensors.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GPT-2 LoRA adapters both ways against Python peft ({@code make_lora_gpt2_references.py}): an adapter PEFT made with
 * {@code fan_in_fan_out: true} (GPT-2's Conv1D) loads onto the tiny GPT-2 and gives PEFT's logits, unmerged and after
 * merge_and_unload; and the adapter our LoRA training wrote (with lora_dropout, {@code Gpt2AdapterFixture}) gives the
 * logits PEFT computes from it, so PEFT reads what we write.
 */
class LoraGpt2ParityTest {

    static final Path BASE = Path.of("src/test/resources/generation/gpt2-tiny");
    static final Path DIR = Path.of("src/test/resources/lora/gpt2");
    static JsonNode ref;

    @BeforeAll
    static void read() throws IOException {
        System.setProperty("ai.djl.offline", "true");
        ref = Json.readObject(DIR.resolve("references.json"));
    }

    @Test
    void aPeftFanInFanOutAdapterLoadsWithPeftsLogits() throws IOException {
        assertTrue(LoraConfig.read(DIR.resolve("peft-adapter")).loraDropout() > 0, "made with lora_dropout");
        try (HfModel hf = HfModel.fromPretrained(BASE, Task.CAUSAL_LM)) {
            LoraModel lora = LoraModel.load(hf.block(), DIR.resolve("peft-adapter"));
            assertClose(ref.get("peft_eval_logits"), logits(lora, hf.manager()), "base + PEFT adapter");
            PretrainedModel merged = lora.mergeAndUnload();
            assertClose(ref.get("peft_merged_logits"), logits(merged, hf.manager()), "merge_and_unload");
        }
    }

    @Test
    void peftGivesOurGpt2AdaptersLogits() throws IOException {
        try (HfModel hf = HfModel.fromPretrained(BASE, Task.CAUSAL_LM)) {
            LoraModel lora = LoraModel.load(hf.block(), DIR.resolve("ours-adapter"));
            assertClose(ref.get("ours_peft_logits"), logits(lora, hf.manager()), "PEFT on our adapter");
        }
    }

    @Test
    void ourGpt2AdapterFileIsWhatSaveAdapterWrites(@TempDir Path tmp) throws IOException {
        Path ours = DIR.resolve("ours-adapter");
        try (HfModel hf = HfModel.fromPretrained(BASE, Task.CAUSAL_LM)) {
            LoraModel.load(hf.block(), ours).saveAdapter(tmp);
        }
        assertEquals(
                Json.readObject(ours.resolve(LoraModel.CONFIG_FILE)),
                Json.readObject(tmp.resolve(LoraModel.CONFIG_FILE)));
        assertTrue(
                Json.readObject(tmp.resolve(LoraModel.CONFIG_FILE))
                        .get("fan_in_fan_out")
                        .asBoolean(),
                "a Conv1D adapter says fan_in_fan_out as PEFT does");
        Map<String, Tensor> a = weights(ours.resolve(LoraModel.WEIGHTS_FILE));
        Map<String, Tensor> b = weights(tmp.resolve(LoraModel.WEIGHTS_FILE));
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet())
            assertArrayEquals(a.get(k).toFloatArray(), b.get(k).toFloatArray(), k);
    }

    @Test
    void fanInFanOutIsReadAsABoolean() {
        var json = Json.MAPPER.createObjectNode().put("r", 4).put("fan_in_fan_out", "yes");
        json.putArray("target_modules").add("c_attn");
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> LoraConfig.fromJson(json, "adapter_config.json"));
        assertEquals("adapter_config.json: fan_in_fan_out must be true or false but was \"yes\"", e.getMessage());
        json.put("fan_in_fan_out", true);
        assertEquals(4, LoraConfig.fromJson(json, "adapter_config.json").r());
    }

    private static Map<String, Tensor> weights(Path file) throws IOException {
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(file)) {
            return c.readAll();
        }
    }

    /** Eval-mode logits (B, T, V) of the reference's ids, no padding. */
    private static float[] logits(PretrainedModel model, NDManager owner) {
        JsonNode rows = ref.get("input_ids");
        int b = rows.size();
        int t = rows.get(0).size();
        long[] ids = new long[b * t];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < t; j++) ids[i * t + j] = rows.get(i).get(j).asLong();
        try (NDManager scope = owner.newSubManager();
                NoGrad g = NoGrad.enter()) {
            Shape s = new Shape(b, t);
            NDArray mask = scope.ones(s, ai.djl.ndarray.types.DataType.INT64);
            NDList in = new NDList(scope.create(ids, s), mask);
            return model.forward(new ParameterStore(scope, false), in, false)
                    .head()
                    .toFloatArray();
        }
    }

    private static void assertClose(JsonNode expected, float[] actual, String what) {
        double worst = 0;
        int i = 0;
        for (JsonNode row : expected)
            for (JsonNode tok : row)
                for (JsonNode v : tok) worst = Math.max(worst, Math.abs(v.asDouble() - actual[i++]));
        assertEquals(actual.length, i, what + ": logits size");
        System.out.println("GPT-2 LoRA parity (" + what + "): max |diff| = " + worst);
        assertTrue(worst <= 1e-4, what + ": max |diff| vs peft = " + worst);
    }
}
