package io.sparkformers.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.lora.LoraModel;
import io.sparkformers.safetensors.SafetensorsCheckpoint;
import io.sparkformers.safetensors.Tensor;
import io.sparkformers.train.RealText;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LoRA through the language-modelling Estimators in local[2] on the Apache License's paragraphs: the tiny GPT-2 (its
 * {@code c_attn} Conv1D adapted) trained by {@link CausalLanguageModelTrainer} with 2 replicas × batch 2 ends with the
 * adapter of 1 replica × batch 2 × 2 accumulation steps (only adapter gradients cross the all-reduce; the frozen
 * base is unchanged), and the fitted folder holds the merged model plus the PEFT {@code adapter/} folder (PEFT's key
 * names and config, task_type CAUSAL_LM); {@link MaskedLanguageModelTrainer} trains a tiny BERT's adapter with 2
 * replicas the same way.
 */
class LanguageModelLoraTest {
    static SparkSession spark;
    static Path bert;
    static Path gpt2;

    @TempDir
    static Path shared;

    @TempDir
    Path tmp;

    static final StructType SCHEMA = new StructType().add("text", DataTypes.StringType, true);

    @BeforeAll
    static void start() throws Exception {
        spark = TrainingFixtures.trainingSession("LanguageModelLoraTest");
        bert = TrainingFixtures.tinyBertWithoutDropout(shared.resolve("bert"));
        gpt2 = TrainingFixtures.tinyGpt2WithoutDropout(shared.resolve("gpt2"));
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
    }

    static Dataset<Row> paragraphs() throws Exception {
        List<Row> rows = new ArrayList<>();
        for (String s : RealText.paragraphs()) rows.add(RowFactory.create(s));
        return TrainingFixtures.frame(spark, rows, SCHEMA, 3);
    }

    private static <S extends LanguageModelingEstimator<S, ?>> S lora(
            S t, Path model, String out, int workers, String... targets) {
        return TrainingFixtures.languageModel(t, model, out, workers)
                .setLearningRate(1e-2)
                .setMaxLength(32)
                .setLoraR(4)
                .setLoraAlpha(8)
                .setLoraTargetModules(targets);
    }

    private static Map<String, Tensor> adapter(String outputDir) throws Exception {
        Path file = Path.of(outputDir.replaceFirst("^file:", ""))
                .resolve(LoraModel.FIT_FOLDER)
                .resolve(LoraModel.WEIGHTS_FILE);
        try (SafetensorsCheckpoint w = SafetensorsCheckpoint.open(file)) {
            return w.readAll();
        }
    }

    private static JsonNode adapterConfig(String outputDir) throws Exception {
        return Json.MAPPER.readTree(Path.of(outputDir.replaceFirst("^file:", ""))
                .resolve(LoraModel.FIT_FOLDER)
                .resolve(LoraModel.CONFIG_FILE)
                .toFile());
    }

    /** max |lora_B| over the adapter: PEFT starts B at zeros, so > 0 means the adapter trained. */
    private static double maxLoraB(Map<String, Tensor> a) {
        double max = 0;
        for (var e : a.entrySet()) {
            if (!e.getKey().endsWith("lora_B.weight")) continue;
            for (float v : e.getValue().toFloatArray()) max = Math.max(max, Math.abs(v));
        }
        return max;
    }

    @Test
    void causalLmLoraTwoReplicasMatchOneWithAccumulationAndSaveAPeftAdapter() throws Exception {
        Dataset<Row> data = paragraphs();
        var one = lora(
                        new CausalLanguageModelTrainer(),
                        gpt2,
                        tmp.resolve("one").toString(),
                        1,
                        "c_attn")
                .fitWithSummary(data);
        var two = lora(
                        new CausalLanguageModelTrainer(),
                        gpt2,
                        tmp.resolve("two").toString(),
                        2,
                        "c_attn")
                .fitWithSummary(data);
        assertEquals(2, two.summary().workers().size());

        Map<String, Tensor> a1 = adapter(one.summary().outputDir());
        Map<String, Tensor> a2 = adapter(two.summary().outputDir());
        double diff = TrainingFixtures.maxAbsDiff(a1, a2);
        double moved = maxLoraB(a2);
        System.out.printf("causal LM LoRA: max |1 replica - 2 replicas| = %.3g, max |lora_B| = %.3g%n", diff, moved);
        assertTrue(diff <= 1e-5, "1 replica × 2 accumulation vs 2 replicas: adapter max |diff| " + diff);
        assertTrue(moved > 1e-4, "the adapter did not train: max |lora_B| " + moved);

        // PEFT's layout: base_model.model.<module>.lora_A/B.weight for each c_attn, A (r, in), B (out, r)
        int layers =
                Json.readObject(gpt2.resolve("config.json")).path("n_layer").asInt();
        int embd = Json.readObject(gpt2.resolve("config.json")).path("n_embd").asInt();
        assertEquals(2 * layers, a2.size(), a2.keySet().toString());
        for (int i = 0; i < layers; i++) {
            String m = "base_model.model.transformer.h." + i + ".attn.c_attn.";
            assertEquals(
                    List.of(4L, (long) embd), asList(a2.get(m + "lora_A.weight").shape()), m);
            assertEquals(
                    List.of(3L * embd, 4L), asList(a2.get(m + "lora_B.weight").shape()), m);
        }
        JsonNode cfg = adapterConfig(two.summary().outputDir());
        assertEquals("LORA", cfg.path("peft_type").asText());
        assertEquals("CAUSAL_LM", cfg.path("task_type").asText());
        assertEquals(4, cfg.path("r").asInt());
        assertEquals(8.0, cfg.path("lora_alpha").asDouble());
        assertTrue(cfg.path("target_modules").toString().contains("c_attn"), cfg.toString());

        // the merged checkpoint: the frozen base is unchanged outside c_attn, c_attn moved by the adapter
        Map<String, Tensor> start = TrainingFixtures.weights(gpt2.toString());
        Map<String, Tensor> merged = TrainingFixtures.weights(two.summary().outputDir());
        assertEquals(0.0, maxAbsDiff(start, merged, "transformer.wte.weight"), "embeddings frozen");
        assertEquals(0.0, maxAbsDiff(start, merged, "transformer.h.0.mlp.c_fc.weight"), "MLP frozen");
        assertTrue(maxAbsDiff(start, merged, "transformer.h.0.attn.c_attn.weight") > 1e-6, "c_attn merged");

        TextGenerator stage = two.model().setOutputCol("generated").setMaxNewTokens(4);
        List<Row> out = stage.transform(spark.createDataFrame(List.of(RowFactory.create("Licensor shall")), SCHEMA))
                .select("generated")
                .collectAsList();
        assertFalse(out.get(0).isNullAt(0), "the stage generated from the merged checkpoint");
    }

    @Test
    void maskedLmLoraTrainsWithTwoReplicasAndSavesAPeftAdapter() throws Exception {
        var two = lora(
                        new MaskedLanguageModelTrainer(),
                        bert,
                        tmp.resolve("mlm").toString(),
                        2,
                        "query",
                        "value")
                .fitWithSummary(paragraphs());
        Map<String, Tensor> a = adapter(two.summary().outputDir());
        assertFalse(a.isEmpty());
        assertTrue(
                a.keySet().stream().allMatch(k -> k.startsWith("base_model.model.") && k.contains(".lora_")),
                a.keySet().toString());
        assertTrue(maxLoraB(a) > 1e-4, "the adapter did not train");
        assertTrue(adapterConfig(two.summary().outputDir()).path("task_type").isNull());
    }

    private static List<Long> asList(long[] shape) {
        List<Long> l = new ArrayList<>();
        for (long s : shape) l.add(s);
        return l;
    }

    private static double maxAbsDiff(Map<String, Tensor> a, Map<String, Tensor> b, String key) {
        return TrainingFixtures.maxAbsDiff(Map.of(key, a.get(key)), Map.of(key, b.get(key)));
    }
}
