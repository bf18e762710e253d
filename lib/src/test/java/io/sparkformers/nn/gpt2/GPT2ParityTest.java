package io.sparkformers.nn.gpt2;

import static io.sparkformers.generation.GenerationReferences.floats;
import static io.sparkformers.generation.GenerationReferences.longRows;
import static io.sparkformers.generation.GenerationReferences.longs;
import static io.sparkformers.generation.GenerationReferences.maxRelDiff;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.generation.GenerationReferences;
import io.sparkformers.nn.CausalLanguageModel;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.StateDict;
import io.sparkformers.nn.Task;
import io.sparkformers.safetensors.SafetensorsCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GPT2LMHeadModel against HF's logits for the same seeded checkpoint: prefill, cached decode steps, left padding. */
class GPT2ParityTest {

    private static final double TOL = 1e-4;
    private static HfModel model;
    private static CausalLanguageModel lm;

    @BeforeAll
    static void load() throws Exception {
        System.setProperty("ai.djl.offline", "true");
        model = HfModel.fromPretrained(GenerationReferences.gpt2Tiny(), Task.CAUSAL_LM);
        lm = (CausalLanguageModel) model.block();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void loadsTheCheckpointStrictlyWithTheHeadTiedToTheTokenEmbedding() {
        assertTrue(
                model.loadReport().missing().isEmpty(),
                "missing " + model.loadReport().missing());
        assertTrue(
                model.loadReport().unexpected().isEmpty(),
                "unexpected " + model.loadReport().unexpected());
        assertEquals(512, lm.vocabSize());
    }

    @Test
    void prefillAndCachedDecodeStepsMatchTransformers() {
        JsonNode ref = GenerationReferences.references().get("prefill");
        long[] ids = longs(ref.get("input_ids"));
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray input = m.create(ids, new Shape(1, ids.length));
            NDArray mask = input.onesLike();
            CausalLanguageModel.Step step = lm.forward(input, mask, GPT2Model.positionIds(mask), null);
            double prefill = maxRelDiff(step.logits().toFloatArray(), floats(ref.get("logits")));
            assertTrue(prefill < TOL, "prefill max rel diff " + prefill);
            CausalLanguageModel.KvCache cache = step.cache();
            for (JsonNode s : ref.get("steps")) {
                mask = m.ones(new Shape(1, cache.length() + 1), ai.djl.ndarray.types.DataType.INT64);
                NDArray next = m.create(new long[] {s.get("input_id").asLong()}, new Shape(1, 1));
                NDArray pos = m.create(new long[] {cache.length()}, new Shape(1, 1));
                step = lm.forward(next, mask, pos, cache);
                cache = step.cache();
                double d = maxRelDiff(step.logits().toFloatArray(), floats(s.get("logits")));
                assertTrue(d < TOL, "decode step max rel diff " + d);
            }
            assertEquals(ids.length + 3, cache.length());
            cache.close();
        }
    }

    @Test
    void leftPaddedBatchMatchesTransformersWithItsPositionIds() {
        JsonNode ref = GenerationReferences.references().get("padded_batch");
        long[][] ids = longRows(ref.get("input_ids"));
        long[][] mask = longRows(ref.get("attention_mask"));
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray maskArr = m.create(mask);
            NDArray pos = GPT2Model.positionIds(maskArr);
            assertArrayEquals(
                    flatten(longRows(ref.get("position_ids"))), pos.toLongArray(), "position ids as HF's generate");
            CausalLanguageModel.Step step = lm.forward(m.create(ids), maskArr, pos, null);
            float[] last = step.logits().get(":, -1, :").toFloatArray();
            double d = maxRelDiff(last, floats(ref.get("last_logits")));
            assertTrue(d < TOL, "padded batch max rel diff " + d);
            step.cache().close();
        }
    }

    @Test
    void savePretrainedWritesTheKeysTransformersWrites(@TempDir Path dir) throws Exception {
        model.savePretrained(dir);
        try (SafetensorsCheckpoint ours = SafetensorsCheckpoint.open(dir.resolve("model.safetensors"));
                SafetensorsCheckpoint theirs = SafetensorsCheckpoint.open(
                        GenerationReferences.gpt2Tiny().resolve("model.safetensors"))) {
            assertEquals(new TreeSet<>(theirs.names()), new TreeSet<>(ours.names()));
        }
        assertTrue(Files.readString(dir.resolve("config.json")).contains("\"GPT2LMHeadModel\""));
        try (HfModel again = HfModel.fromPretrained(dir, Task.CAUSAL_LM)) {
            assertTrue(again.loadReport().missing().isEmpty());
            assertEquals(
                    StateDict.of(model.block()).keySet(),
                    StateDict.of(again.block()).keySet());
        }
    }

    @Test
    void refusesUnsupportedConfigValues() {
        var json = GPT2Config.tiny().toJson();
        json.put("scale_attn_by_inverse_layer_idx", true);
        var e = assertThrows(IllegalArgumentException.class, () -> GPT2Config.fromJson(json));
        assertEquals("scale_attn_by_inverse_layer_idx=true is not supported for gpt2", e.getMessage());
        var bad = GPT2Config.tiny().toJson().put("n_embd", 30);
        var e2 = assertThrows(IllegalArgumentException.class, () -> GPT2Config.fromJson(bad));
        assertEquals("n_embd (30) is not a multiple of n_head (4)", e2.getMessage());
    }

    private static long[] flatten(long[][] rows) {
        return java.util.Arrays.stream(rows)
                .flatMapToLong(java.util.Arrays::stream)
                .toArray();
    }
}
