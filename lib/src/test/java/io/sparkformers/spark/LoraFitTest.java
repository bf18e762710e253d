package io.sparkformers.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkformers.nn.lora.LoraConfig;
import io.sparkformers.nn.lora.LoraModel;
import io.sparkformers.safetensors.SafetensorsCheckpoint;
import io.sparkformers.safetensors.Tensor;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TextClassifier with a LoRA adapter (loraR &gt; 0): data-parallel fits where only the adapter and head cross the
 * all-reduce give the same adapter with 2 workers × batch b as with 1 × 2b, and the returned stage scores rows
 * with the merged model.
 */
class LoraFitTest {

    static SparkSession spark;
    static Path tiny;

    @TempDir
    static Path shared;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() throws Exception {
        spark = TrainingFixtures.trainingSession("LoraFitTest");
        tiny = TrainingFixtures.tinyBertWithoutDropout(shared.resolve("tiny"));
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
    }

    private TextClassifier classifier(String out, int workers, int batch) {
        return new TextClassifier()
                .setModel(tiny.toString())
                .setOutputDir(out)
                .setNumWorkers(workers)
                .setPerDeviceTrainBatchSize(batch)
                .setMaxSteps(4)
                .setLearningRate(1e-2)
                .setMaxLength(32)
                .setSaveStrategy("no")
                .setLoggingSteps(1)
                .setCheckConsistencyEverySteps(1)
                .setLoraR(4)
                .setLoraAlpha(8);
    }

    @Test
    void twoWorkersWithBatchBEqualOneWorkerWithBatch2BAndTheBaseStaysFrozen() throws Exception {
        Dataset<Row> df = TrainingFixtures.sentiment(spark, 40, 0, 3);
        TextClassifier.FitResult one =
                classifier(tmp.resolve("one").toString(), 1, 8).fitWithSummary(df);
        TextClassifier.FitResult two =
                classifier(tmp.resolve("two").toString(), 2, 4).fitWithSummary(df);
        Path a1 = Path.of(one.summary().outputDir().replaceFirst("^file:", "")).resolve(LoraModel.FIT_FOLDER);
        Path a2 = Path.of(two.summary().outputDir().replaceFirst("^file:", "")).resolve(LoraModel.FIT_FOLDER);
        Map<String, Tensor> w1 = adapter(a1);
        Map<String, Tensor> w2 = adapter(a2);
        assertEquals(w1.keySet(), w2.keySet());
        double diff = TrainingFixtures.maxAbsDiff(w1, w2);
        assertTrue(diff <= 1e-5, "adapter max |diff| between 1 worker (batch 8) and 2 workers (batch 4) = " + diff);
        assertTrue(w1.keySet().contains("base_model.model.bert.encoder.layer.0.attention.self.query.lora_B.weight"));
        assertTrue(w1.keySet().contains("base_model.model.classifier.weight"));

        Map<String, Tensor> start = TrainingFixtures.weights(tiny.toString());
        Map<String, Tensor> merged = TrainingFixtures.weights(two.summary().outputDir());
        String frozen = "bert.embeddings.word_embeddings.weight";
        Tensor before = start.getOrDefault(frozen, start.get(frozen.substring("bert.".length())));
        assertEquals(before.data(), merged.get(frozen).data(), "the embeddings are frozen: bit-identical");
        LoraConfig config = LoraConfig.read(a2);
        assertEquals(4, config.r());
        assertEquals("SEQ_CLS", config.taskType());

        List<Row> scored = two.model().transform(df.limit(4)).collectAsList();
        assertEquals(4, scored.size());
        System.out.printf("LoRA equivalence: adapter max |diff| %.3g over %d tensors%n", diff, w1.size());
    }

    private static Map<String, Tensor> adapter(Path dir) throws java.io.IOException {
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir.resolve(LoraModel.WEIGHTS_FILE))) {
            return c.readAll();
        }
    }

    @Test
    void loraWithAnotherModeIsRefusedBeforeAnyJob() {
        TextClassifier c = classifier(tmp.resolve("x").toString(), 1, 8).setMode("partial");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, c::loraConfig);
        assertTrue(e.getMessage().contains("leave mode fine_tune"), e.getMessage());
    }
}
