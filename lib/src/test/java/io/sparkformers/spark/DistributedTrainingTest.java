package io.sparkformers.spark;

import static org.junit.jupiter.api.Assertions.*;

import io.sparkformers.safetensors.Tensor;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The data-parallel fit in local mode ({@code local[2]}: two replicas in one JVM, taking turns on the training lock):
 * 2 workers with per-device batch b end with the weights of 1 worker with batch 2b on the same data order, in both
 * transfer modes; a tiny BERT without dropout (the 2b batch and the two b halves would otherwise draw different masks).
 */
class DistributedTrainingTest {
    static SparkSession spark;
    static Path tiny;

    @TempDir
    static Path shared;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() throws Exception {
        spark = TrainingFixtures.trainingSession("DistributedTrainingTest");
        tiny = TrainingFixtures.tinyBertWithoutDropout(shared.resolve("tiny"));
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
    }

    private TextClassifier classifier(String out, String mode, int workers, int batch) {
        return new TextClassifier()
                .setModel(tiny.toString())
                .setOutputDir(out)
                .setMode(mode)
                .setNumWorkers(workers)
                .setPerDeviceTrainBatchSize(batch)
                .setMaxSteps(4)
                .setLearningRate(1e-3)
                .setMaxLength(32)
                .setSaveStrategy("no")
                .setLoggingSteps(1)
                .setValidationIndicatorCol("isEval")
                .setCheckConsistencyEverySteps(1);
    }

    @Tag("smoke") // the smoke suite of every Spark line (.ci/run)
    @ParameterizedTest
    @ValueSource(strings = {"fine_tune", "feature_extraction"})
    void twoWorkersWithBatchBEqualOneWorkerWithBatch2B(String mode) throws Exception {
        Dataset<Row> df = TrainingFixtures.sentiment(spark, 40, 8, 3);
        TextClassifier.FitResult one =
                classifier(tmp.resolve("one").toString(), mode, 1, 8).fitWithSummary(df);
        TextClassifier.FitResult two =
                classifier(tmp.resolve("two").toString(), mode, 2, 4).fitWithSummary(df);
        Map<String, Tensor> w1 = TrainingFixtures.weights(one.summary().outputDir());
        Map<String, Tensor> w2 = TrainingFixtures.weights(two.summary().outputDir());
        Map<String, Tensor> start = TrainingFixtures.weights(tiny.toString());
        double diff = TrainingFixtures.maxAbsDiff(w1, w2);
        assertTrue(diff <= 1e-5, mode + ": max |diff| between 1 worker (batch 8) and 2 workers (batch 4) = " + diff);
        assertEquals(2, ((Number) two.summary().trainMetrics().get("train_world_size")).intValue());
        assertEquals(2, two.summary().workers().size());
        assertEquals(
                one.summary().evalMetrics().get("eval_accuracy"),
                two.summary().evalMetrics().get("eval_accuracy"));
        assertEquals(8.0, two.summary().evalMetrics().get("eval_samples"), "eval rows merged from both ranks");
        if (mode.equals("fine_tune")) {
            String enc = "bert.encoder.layer.0.attention.self.query.weight";
            Tensor before = start.getOrDefault(enc, start.get(enc.substring("bert.".length())));
            assertTrue(
                    TrainingFixtures.maxAbsDiff(Map.of(enc, before), Map.of(enc, w2.get(enc))) > 1e-4,
                    "fine_tune moved the encoder");
        }
        System.out.printf(
                "equivalence %s: max |diff| %.3g, eval %s%n",
                mode, diff, two.summary().evalMetrics());
    }

    @Test
    void eachFitHasItsOwnSecretAndTheEstimatorIsUnchanged() throws Exception {
        Dataset<Row> df = TrainingFixtures.sentiment(spark, 24, 0, 2);
        TextClassifier est = classifier(tmp.resolve("a").toString(), "feature_extraction", 2, 4)
                .setMaxSteps(1)
                .setValidationIndicatorCol("");
        String before = est.explainParams();
        TextClassifier.FitResult a = est.fitWithSummary(df);
        TextClassifier.FitResult b = est.copy(new org.apache.spark.ml.param.ParamMap())
                .setOutputDir(tmp.resolve("b").toString())
                .fitWithSummary(df);
        assertNotEquals(a.summary().secretFingerprint(), b.summary().secretFingerprint());
        assertEquals(before, est.explainParams(), "fit does not change the estimator");
        assertSame(est, a.model().parent());
        assertEquals(a.summary().outputDir(), a.model().getModel());
    }

    @Test
    void nonEmptyOutputDirFailsBeforeAnyJob() throws Exception {
        java.nio.file.Files.writeString(tmp.resolve("x.txt"), "x");
        Dataset<Row> df = TrainingFixtures.sentiment(spark, 24, 0, 2);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> classifier(tmp.toString(), "fine_tune", 2, 4)
                        .setValidationIndicatorCol("")
                        .fit(df));
        assertTrue(
                e.getMessage().contains("already exists and is not empty: set overwriteOutputDir true"),
                e.getMessage());
    }

    @Test
    void wrongLabelTypeNamesTheColumn() {
        Dataset<Row> df = TrainingFixtures.sentiment(spark, 24, 0, 2);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> classifier(tmp.toString(), "fine_tune", 2, 4)
                        .setProblemType(TextClassifier.REGRESSION)
                        .fit(df));
        assertEquals("TextClassifier: labelCol 'label' must be numeric but got string", e.getMessage());
        assertTrue(List.of(df.columns()).contains("label"));
    }

    @Test
    void aLabelColumnWithASingleValueIsRefusedBeforeTraining() {
        Dataset<Row> df = TrainingFixtures.sentiment(spark, 24, 0, 2).filter("label = 'pos'");
        long n = df.count();
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> classifier(tmp.resolve("one").toString(), "fine_tune", 2, 4)
                        .setValidationIndicatorCol("")
                        .fit(df));
        assertEquals(
                "single-label classification needs at least 2 classes, but the label column 'label' holds a "
                        + "single value (value counts: {pos=" + n
                        + "}): add training rows of the other classes (check the "
                        + "data's path, filter and limit, and the label column)",
                e.getMessage());
        assertFalse(java.nio.file.Files.exists(tmp.resolve("one").resolve("config.json")), "nothing written");
    }

    @Test
    void moreWorkersThanTaskSlotsFailAtOnceNamingBoth() {
        Dataset<Row> df = TrainingFixtures.sentiment(spark, 24, 0, 2);
        long t0 = System.nanoTime();
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> classifier(tmp.resolve("three").toString(), "fine_tune", 3, 4)
                        .setValidationIndicatorCol("")
                        .fit(df));
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(
                "numWorkers 3 asks for 3 concurrent tasks but the Spark session has 2 task slots (master local[2], "
                        + "spark.task.cpus 1): set numWorkers to at most 2, or give the session more executor cores",
                e.getMessage());
        assertTrue(seconds < 5, "refused before any job, not by Spark's barrier check: " + seconds + " s");
        assertFalse(java.nio.file.Files.exists(tmp.resolve("three")), "nothing written");
    }
}
