package io.sparkformers.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkformers.safetensors.Tensor;
import java.nio.file.Path;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 2-replica Spark fit with {@code spark.sparkformers.collective.encrypt=true}: every replica's ring is encrypted, and
 * the fit ends with the weights of one worker on the same global batches (the encrypted all-reduce changes nothing).
 */
class EncryptedDistributedFitTest {

    @Test
    void twoEncryptedReplicasEqualOneWorker(@TempDir Path tmp) throws Exception {
        Path tiny = TrainingFixtures.tinyBertWithoutDropout(tmp.resolve("tiny"));
        SparkSession spark = SparkSession.builder()
                .master("local[2]")
                .appName("EncryptedDistributedFitTest")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .config(DistributedTraining.ENCRYPT_COLLECTIVE, "true")
                .getOrCreate();
        try {
            Dataset<Row> df = TrainingFixtures.sentiment(spark, 24, 0, 2);
            TextClassifier.FitResult one =
                    classifier(tiny, tmp.resolve("one"), 1, 8).fitWithSummary(df);
            TextClassifier.FitResult two =
                    classifier(tiny, tmp.resolve("two"), 2, 4).fitWithSummary(df);
            assertEquals(2, two.summary().workers().size());
            for (Map<String, Object> w : two.summary().workers()) {
                assertEquals(true, w.get("ring_encrypted"), "rank " + w.get("rank") + " ran its ring in clear");
            }
            Map<String, Tensor> w1 = TrainingFixtures.weights(one.summary().outputDir());
            Map<String, Tensor> w2 = TrainingFixtures.weights(two.summary().outputDir());
            double diff = TrainingFixtures.maxAbsDiff(w1, w2);
            assertTrue(diff <= 1e-5, "max |diff| between 1 worker and 2 encrypted replicas = " + diff);
        } finally {
            spark.stop();
        }
    }

    private static TextClassifier classifier(Path tiny, Path out, int workers, int batch) {
        return new TextClassifier()
                .setModel(tiny.toString())
                .setOutputDir(out.toString())
                .setNumWorkers(workers)
                .setPerDeviceTrainBatchSize(batch)
                .setMaxSteps(2)
                .setLearningRate(1e-3)
                .setMaxLength(32)
                .setSaveStrategy("no")
                .setValidationIndicatorCol("");
    }
}
