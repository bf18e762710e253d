package io.sparkformers.nn.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.convert.BuiltinModels;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.Json;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.hub.TokenBatch;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.PretrainedModel;
import io.sparkformers.nn.Task;
import io.sparkformers.pipeline.PipelineOptions;
import io.sparkformers.pipeline.Pipelines;
import io.sparkformers.pipeline.TextClassificationPipeline;
import io.sparkformers.safetensors.SafetensorsCheckpoint;
import io.sparkformers.safetensors.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A LoRA adapter written by Python peft ({@code make_lora_references.py}: the real all-MiniLM-L6-v2 under a seeded
 * classification head, every encoder Linear adapted with non-zero lora_B) loads onto our base with peft's logits,
 * merges into it with peft's merged logits, and saves back under peft's keys with the same bytes.
 */
class LoraParityTest {

    private static final Path DIR = Path.of("src/test/resources/lora");
    private static final Path ADAPTER = DIR.resolve("adapter");
    private static Path base;
    private static JsonNode refs;

    @BeforeAll
    static void resolve() throws IOException {
        System.setProperty("ai.djl.offline", "true");
        base = BuiltinModels.resolve(BuiltinModels.get("all-MiniLM-L6-v2"));
        refs = Json.MAPPER.readTree(DIR.resolve("references.json").toFile());
    }

    @Test
    void peftAdapterLoadsWithPeftLogits() throws IOException {
        try (HfModel hf = HfModel.fromPretrained(base, Task.SEQUENCE_CLASSIFICATION)) {
            LoraModel lora = LoraModel.load(hf.block(), ADAPTER);
            assertEquals(36, lora.adapted().size(), "6 Linear layers adapted in each of 6 encoder layers");
            assertClose(refs.get("adapter_logits"), logits(hf, lora), "base + adapter");
        }
    }

    @Test
    void mergeAndUnloadGivesPeftMergedLogits(@TempDir Path tmp) throws IOException {
        try (HfModel hf = HfModel.fromPretrained(base, Task.SEQUENCE_CLASSIFICATION)) {
            PretrainedModel merged = LoraModel.load(hf.block(), ADAPTER).mergeAndUnload();
            assertClose(refs.get("merged_logits"), logits(hf, merged), "merged");
            hf.savePretrained(tmp.resolve("merged"));
        }
        try (HfModel reloaded = HfModel.fromPretrained(
                HfCheckpoint.open(tmp.resolve("merged")), Task.SEQUENCE_CLASSIFICATION, ai.djl.Device.cpu())) {
            assertTrue(reloaded.loadReport().missing().isEmpty(), "the plain checkpoint holds the head too");
            assertClose(refs.get("merged_logits"), logits(reloaded, reloaded.block()), "merged, saved, reloaded");
        }
    }

    @Test
    void anAdapterFolderLoadsMergedOntoItsBaseForPipelines() throws IOException {
        try (HfModel hf = HfModel.fromAdapter(
                ADAPTER, HfCheckpoint.open(base), Task.SEQUENCE_CLASSIFICATION, ai.djl.Device.cpu())) {
            assertClose(refs.get("merged_logits"), logits(hf, hf.block()), "HfModel.fromAdapter");
        }
    }

    @Test
    void aPipelineWithAnAdapterGivesPeftsLogits() throws IOException {
        PipelineOptions options = PipelineOptions.builder()
                .topK(PipelineOptions.ALL)
                .functionToApply("none")
                .adapter(ADAPTER)
                .build();
        try (var p = (TextClassificationPipeline) Pipelines.create("text-classification", base, options)) {
            assertClose(refs.get("adapter_logits"), scores(p.classify(texts())), "pipeline, base + adapter");
        }
    }

    @Test
    void withoutAModelTheAdapterNamesItsBaseBesideIt(@TempDir Path tmp) throws IOException {
        // PEFT writes the path the base was loaded from: here the folder name, a sibling of the adapter folder
        Files.createSymbolicLink(tmp.resolve(refs.get("base").asText()), base.toAbsolutePath());
        Path adapter = Files.createDirectories(tmp.resolve("adapter"));
        for (String f : List.of(LoraModel.CONFIG_FILE, LoraModel.WEIGHTS_FILE))
            Files.copy(ADAPTER.resolve(f), adapter.resolve(f));
        assertEquals(tmp.resolve(refs.get("base").asText()).toString(), LoraConfig.baseReference(adapter));
        PipelineOptions options = PipelineOptions.builder()
                .topK(PipelineOptions.ALL)
                .functionToApply("none")
                .adapter(adapter)
                .build();
        try (var p = (TextClassificationPipeline) Pipelines.create("text-classification", null, options)) {
            assertClose(refs.get("adapter_logits"), scores(p.classify(texts())), "pipeline, adapter's own base");
        }
    }

    @Test
    void aHeadNeitherBaseNorAdapterHoldsIsRefused(@TempDir Path tmp) throws IOException {
        Path adapter = Files.createDirectories(tmp.resolve("no-head"));
        var config = (com.fasterxml.jackson.databind.node.ObjectNode)
                Json.readObject(ADAPTER.resolve(LoraModel.CONFIG_FILE));
        config.putNull("modules_to_save");
        Json.write(adapter.resolve(LoraModel.CONFIG_FILE), config);
        Map<String, Tensor> onlyLora = new java.util.LinkedHashMap<>();
        try (SafetensorsCheckpoint w = SafetensorsCheckpoint.open(ADAPTER.resolve(LoraModel.WEIGHTS_FILE))) {
            w.readAll().forEach((k, v) -> {
                if (k.contains(".lora_")) onlyLora.put(k, v);
            });
        }
        io.sparkformers.safetensors.SafetensorsWriter.write(
                adapter.resolve(LoraModel.WEIGHTS_FILE), onlyLora, Map.of("format", "pt"));
        PipelineOptions options = PipelineOptions.builder().adapter(adapter).build();
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> Pipelines.create("text-classification", base, options));
        assertTrue(e.getMessage().contains("with adapter " + adapter), e.getMessage());
        assertTrue(e.getMessage().contains("classifier.weight"), e.getMessage());
    }

    @Test
    void anAdapterForAnotherBaseFailsNamingTheTensors() throws IOException {
        Path other = Path.of("src/test/resources/parity/tiny/roberta-sentiment"); // hidden size 32, not 384
        PipelineOptions options = PipelineOptions.builder().adapter(ADAPTER).build();
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> Pipelines.create("text-classification", other, options));
        assertTrue(e.getMessage().contains("does not fit this base and config"), e.getMessage());
    }

    private static List<String> texts() {
        List<String> texts = new ArrayList<>();
        refs.get("texts").forEach(t -> texts.add(t.asText()));
        return texts;
    }

    /** Scores of LABEL_0, LABEL_1 per text (function_to_apply none: the logits). */
    private static float[][] scores(List<List<TextClassificationPipeline.LabelScore>> results) {
        float[][] out = new float[results.size()][2];
        for (int i = 0; i < out.length; i++) {
            for (var l : results.get(i))
                out[i][Integer.parseInt(l.label().substring("LABEL_".length()))] = (float) l.score();
        }
        return out;
    }

    @Test
    void anRsLoraAdapterScalesByAlphaOverSqrtRAsPeftDoes(@TempDir Path tmp) throws IOException {
        Path rslora = DIR.resolve("rslora");
        LoraConfig config = LoraConfig.read(rslora);
        assertTrue(config.useRslora());
        assertEquals(8 / Math.sqrt(16), config.scaling(), 1e-12, "lora_alpha / sqrt(r), not / r");
        try (HfModel hf = HfModel.fromPretrained(base, Task.SEQUENCE_CLASSIFICATION)) {
            LoraModel lora = LoraModel.load(hf.block(), rslora);
            assertClose(refs.get("rslora_logits"), logits(hf, lora), "rsLoRA base + adapter");
            lora.saveAdapter(tmp);
        }
        assertTrue(Json.readObject(tmp.resolve(LoraModel.CONFIG_FILE))
                .get("use_rslora")
                .asBoolean());
        assertEquals(config, LoraConfig.read(tmp));
        var bad = Json.readObject(rslora.resolve(LoraModel.CONFIG_FILE));
        bad.put("use_rslora", "yes");
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> LoraConfig.fromJson(bad, "cfg.json"));
        assertEquals("cfg.json: use_rslora must be true or false but was \"yes\"", e.getMessage());
    }

    @Test
    void targetsThatMatchNoLinearAreRefusedAsPeftDoes() throws IOException {
        try (HfModel hf = HfModel.fromPretrained(base, Task.SEQUENCE_CLASSIFICATION)) {
            IllegalArgumentException none = org.junit.jupiter.api.Assertions.assertThrows(
                    IllegalArgumentException.class,
                    () -> LoraModel.wrap(hf.block(), LoraConfig.of(4, 8, List.of("q_proj"))));
            assertTrue(
                    none.getMessage().contains("Target modules [q_proj] not found in the base model"),
                    none.getMessage());
            IllegalArgumentException notLinear = org.junit.jupiter.api.Assertions.assertThrows(
                    IllegalArgumentException.class,
                    () -> LoraModel.wrap(hf.block(), LoraConfig.of(4, 8, List.of("attention"))));
            assertTrue(notLinear.getMessage().contains("is not a Linear layer"), notLinear.getMessage());
            LoraModel fresh = LoraModel.wrap(hf.block(), LoraConfig.of(4, 8, List.of("query", "value")));
            assertEquals(12, fresh.adapted().size(), "query and value of 6 layers");
            long adapter = fresh.adapterParameters().values().stream()
                    .mapToLong(p -> p.getArray().size())
                    .sum();
            assertEquals(12 * (4 * 384 + 384 * 4), adapter);
        }
    }

    @Test
    void loraOnlyBiasesAreSavedUnderPeftsBaseLayerNames(@TempDir Path tmp) throws IOException {
        LoraConfig config = new LoraConfig(
                4,
                8,
                0,
                List.of("query", "value"),
                null,
                LoraConfig.Bias.LORA_ONLY,
                List.of("classifier"),
                null,
                null,
                false);
        try (HfModel hf = HfModel.fromPretrained(base, Task.SEQUENCE_CLASSIFICATION)) {
            LoraModel lora = LoraModel.wrap(hf.block(), config);
            Map<String, Tensor> state = lora.adapterState();
            // peft 0.21, same config: 12 × (lora_A, lora_B, base_layer.bias) + classifier weight and bias
            assertEquals(38, state.size(), state.keySet().toString());
            assertTrue(state.containsKey("base_model.model.bert.encoder.layer.0.attention.self.query.base_layer.bias"));
            assertTrue(state.containsKey("base_model.model.classifier.weight"));
            lora.saveAdapter(tmp);
            LoraModel.load(hf.block(), tmp); // our own keys load back
        }
    }

    @Test
    void savingTheLoadedAdapterWritesPeftsKeysShapesAndBytes(@TempDir Path tmp) throws IOException {
        try (HfModel hf = HfModel.fromPretrained(base, Task.SEQUENCE_CLASSIFICATION)) {
            LoraModel.load(hf.block(), ADAPTER).saveAdapter(tmp);
        }
        try (SafetensorsCheckpoint theirs = SafetensorsCheckpoint.open(ADAPTER.resolve(LoraModel.WEIGHTS_FILE));
                SafetensorsCheckpoint ours = SafetensorsCheckpoint.open(tmp.resolve(LoraModel.WEIGHTS_FILE))) {
            assertEquals(theirs.names(), ours.names());
            Map<String, Tensor> a = theirs.readAll();
            Map<String, Tensor> b = ours.readAll();
            for (String k : a.keySet()) {
                assertArrayEquals(a.get(k).shape(), b.get(k).shape(), k);
                assertEquals(a.get(k).dtype(), b.get(k).dtype(), k);
                assertEquals(a.get(k).data(), b.get(k).data(), k + ": bytes differ");
            }
        }
        LoraConfig theirs = LoraConfig.read(ADAPTER);
        LoraConfig ours = LoraConfig.read(tmp);
        assertEquals(theirs, ours);
    }

    private static float[][] logits(HfModel hf, PretrainedModel model) throws IOException {
        List<String> texts = new ArrayList<>();
        refs.get("texts").forEach(t -> texts.add(t.asText()));
        try (TextTokenizer tok = hf.tokenizer(128);
                NDManager scope = NDManager.newBaseManager()) {
            TokenBatch b = tok.encodeBatch(texts, null);
            Shape shape = new Shape(b.batchSize(), b.seqLength());
            NDArray out = model.predict(new NDList(
                            scope.create(b.inputIds(), shape),
                            scope.create(b.attentionMask(), shape),
                            scope.create(b.tokenTypeIds(), shape)))
                    .head();
            float[] flat = out.toFloatArray();
            int n = (int) out.getShape().get(1);
            float[][] rows = new float[texts.size()][n];
            for (int i = 0; i < rows.length; i++) System.arraycopy(flat, i * n, rows[i], 0, n);
            return rows;
        }
    }

    private static void assertClose(JsonNode expected, float[][] actual, String what) {
        double maxRel = 0;
        for (int i = 0; i < actual.length; i++) {
            for (int j = 0; j < actual[i].length; j++) {
                double e = expected.get(i).get(j).asDouble();
                double rel = Math.abs(actual[i][j] - e) / Math.max(Math.abs(e), 1e-3);
                maxRel = Math.max(maxRel, rel);
            }
        }
        assertTrue(maxRel <= 1e-4, what + ": max relative |diff| = " + maxRel);
        System.out.printf("LoRA parity (%s): max relative |diff| = %.3g%n", what, maxRel);
    }
}
