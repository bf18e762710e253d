package io.sparkformers.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.bart.BartConfig;
import io.sparkformers.nn.t5.T5Config;
import io.sparkformers.safetensors.SafetensorsCheckpoint;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** BART and T5: save_pretrained writes HF's keys and config, reloads to the same outputs; unsupported configs fail. */
class Seq2SeqModelsTest {

    @TempDir
    Path tmp;

    static Path dir(String name) throws Exception {
        return Path.of(Seq2SeqModelsTest.class.getResource("/seq2seq/" + name).toURI());
    }

    static Set<String> keys(Path folder) throws Exception {
        try (SafetensorsCheckpoint w = HfCheckpoint.open(folder).openWeights()) {
            return new TreeSet<>(w.readAll().keySet());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"bart-tiny", "t5-tiny", "t5-v11-tiny", "marian-tiny"})
    void savedCheckpointHasTransformersKeysAndReloadsToTheSameLogits(String name) throws Exception {
        Path source = dir(name);
        Path saved = tmp.resolve(name);
        try (HfModel a = HfModel.fromPretrained(source, Task.SEQ2SEQ_LM);
                NDManager m = NDManager.newBaseManager()) {
            assertTrue(
                    a.loadReport().newlyInitialized().isEmpty(), a.loadReport().describe());
            a.savePretrained(saved);
            assertEquals(keys(source), keys(saved));
            assertEquals(
                    Json.readObject(source.resolve("generation_config.json")),
                    Json.readObject(saved.resolve("generation_config.json")));
            var config = Json.readObject(saved.resolve("config.json"));
            var original = Json.readObject(source.resolve("config.json"));
            for (String k : new String[] {"model_type", "vocab_size", "d_model", "decoder_start_token_id"}) {
                assertEquals(original.get(k), config.get(k), k);
            }
            assertEquals(original.get("architectures"), config.get("architectures"));
            try (HfModel b = HfModel.fromPretrained(saved, Task.SEQ2SEQ_LM)) {
                NDList in = new NDList(
                        m.create(new long[][] {{5, 9, 14, 2}, {7, 8, 2, 1}}),
                        m.create(new long[][] {{1, 1, 1, 1}, {1, 1, 1, 0}}),
                        m.create(new long[][] {{0, 4, 6}, {0, 3, 3}}));
                assertArrayEquals(
                        a.predict(in).head().toFloatArray(),
                        b.predict(in).head().toFloatArray());
            }
        }
    }

    @Test
    void unsupportedConfigValuesAreRefused() {
        var layerdrop = assertThrows(
                IllegalArgumentException.class,
                () -> BartConfig.fromJson(Json.MAPPER.readTree("{\"model_type\":\"bart\",\"encoder_layerdrop\":0.1}")));
        assertEquals("encoder_layerdrop 0.1 is not supported (only 0)", layerdrop.getMessage());
        var mbart = assertThrows(
                IllegalArgumentException.class,
                () -> BartConfig.fromJson(Json.MAPPER.readTree("{\"model_type\":\"bart\",\"normalize_before\":true}")));
        assertTrue(mbart.getMessage().contains("not supported"), mbart.getMessage());
        var proj = assertThrows(
                IllegalArgumentException.class,
                () -> T5Config.fromJson(Json.MAPPER.readTree("{\"feed_forward_proj\":\"gated-gelu-fast\"}")));
        assertTrue(
                proj.getMessage().startsWith("feed_forward_proj 'gated-gelu-fast' is not supported"),
                proj.getMessage());
        var act = assertThrows(
                IllegalArgumentException.class,
                () -> T5Config.fromJson(Json.MAPPER.readTree("{\"feed_forward_proj\":\"tanh\"}")));
        assertTrue(act.getMessage().startsWith("unsupported activation 'tanh'"), act.getMessage());
        var heads = assertThrows(
                IllegalArgumentException.class,
                () -> BartConfig.fromJson(Json.MAPPER.readTree("{\"d_model\":30,\"encoder_attention_heads\":4}")));
        assertTrue(heads.getMessage().startsWith("d_model (30) is not a multiple"), heads.getMessage());
    }

    @Test
    void t5ParsesV11AndV10Projections() throws Exception {
        T5Config v11 = T5Config.fromJson(Json.readObject(dir("t5-v11-tiny").resolve("config.json")));
        assertTrue(v11.isGatedAct());
        assertEquals("gelu_new", v11.denseActFn());
        assertEquals(1f, v11.headScale());
        T5Config v10 = T5Config.fromJson(Json.readObject(dir("t5-tiny").resolve("config.json")));
        assertEquals("relu", v10.denseActFn());
        assertEquals((float) Math.pow(32, -0.5), v10.headScale());
    }
}
