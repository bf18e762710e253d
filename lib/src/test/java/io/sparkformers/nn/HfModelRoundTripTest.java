package io.sparkformers.nn;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.sparkformers.convert.BuiltinModels;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.Json;
import io.sparkformers.hub.TokenBatch;
import io.sparkformers.safetensors.SafetensorsCheckpoint;
import io.sparkformers.safetensors.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** from_pretrained → save_pretrained → from_pretrained on real weights: same bytes, same outputs, HF's keys. */
class HfModelRoundTripTest {

    @TempDir
    Path tmp;

    @Test
    void savedCheckpointReloadsBitIdentically() throws Exception {
        Path source = BuiltinModels.resolve(BuiltinModels.get("all-MiniLM-L6-v2"));
        Path saved = tmp.resolve("saved");
        try (HfModel a = HfModel.fromPretrained(source, Task.SENTENCE_EMBEDDING)) {
            a.savePretrained(saved);
            try (HfModel b = HfModel.fromPretrained(saved, Task.SENTENCE_EMBEDDING)) {
                assertTrue(b.loadReport().isExact(), b.loadReport().describe());
                Map<String, Tensor> wa = StateDict.of(a.block());
                Map<String, Tensor> wb = StateDict.of(b.block());
                assertEquals(wa.keySet(), wb.keySet());
                for (String k : wa.keySet()) assertEquals(wa.get(k), wb.get(k), k);
                try (var tok = a.tokenizer(128);
                        NDManager m = NDManager.newBaseManager()) {
                    TokenBatch batch = tok.encodeBatch(List.of("A man is eating food.", "Hello"), null);
                    Shape s = new Shape(batch.batchSize(), batch.seqLength());
                    NDList in = new NDList(m.create(batch.inputIds(), s), m.create(batch.attentionMask(), s));
                    assertArrayEquals(
                            a.predict(in).head().toFloatArray(),
                            b.predict(in).head().toFloatArray());
                }
            }
        }
        assertEquals(
                HfCheckpoint.open(source).pooling(), HfCheckpoint.open(saved).pooling());
        assertEquals(
                "BertModel",
                Json.readObject(saved.resolve("config.json"))
                        .get("architectures")
                        .get(0)
                        .asText());
    }

    @Test
    void sequenceClassifierCheckpointHasExactlyHfKeysAndConfig() throws Exception {
        Path source = BuiltinModels.resolve(BuiltinModels.get("all-MiniLM-L6-v2"));
        Path saved = tmp.resolve("cls");
        try (HfModel m = HfModel.fromPretrained(source, Task.SEQUENCE_CLASSIFICATION)) {
            assertEquals(
                    new TreeSet<>(List.of(
                            "bert.pooler.dense.bias",
                            "bert.pooler.dense.weight",
                            "classifier.bias",
                            "classifier.weight")),
                    new TreeSet<>(m.loadReport().newlyInitialized()),
                    m.loadReport().describe());
            m.savePretrained(saved);
        }
        TreeSet<String> expected = new TreeSet<>();
        expected.addAll(List.of(
                "bert.embeddings.word_embeddings.weight",
                "bert.embeddings.position_embeddings.weight",
                "bert.embeddings.token_type_embeddings.weight",
                "bert.embeddings.LayerNorm.weight",
                "bert.embeddings.LayerNorm.bias",
                "bert.pooler.dense.weight",
                "bert.pooler.dense.bias",
                "classifier.weight",
                "classifier.bias"));
        for (int i = 0; i < 6; i++) {
            String p = "bert.encoder.layer." + i + ".";
            for (String m : List.of(
                    "attention.self.query",
                    "attention.self.key",
                    "attention.self.value",
                    "attention.output.dense",
                    "attention.output.LayerNorm",
                    "intermediate.dense",
                    "output.dense",
                    "output.LayerNorm")) {
                expected.add(p + m + ".weight");
                expected.add(p + m + ".bias");
            }
        }
        try (SafetensorsCheckpoint w = SafetensorsCheckpoint.open(saved)) {
            assertEquals(expected, new TreeSet<>(w.names()));
            assertArrayEquals(new long[] {2, 384}, w.info("classifier.weight").shape());
        }
        var config = Json.readObject(saved.resolve("config.json"));
        assertEquals(
                "BertForSequenceClassification",
                config.get("architectures").get(0).asText());
        assertEquals("bert", config.get("model_type").asText());
        assertEquals("LABEL_1", config.get("id2label").get("1").asText(), "HF writes default labels for a new head");
        assertEquals(0, config.get("label2id").get("LABEL_0").asInt());
        assertEquals(384, config.get("hidden_size").asInt());
        assertTrue(Files.isRegularFile(saved.resolve("tokenizer.json")));
    }
}
