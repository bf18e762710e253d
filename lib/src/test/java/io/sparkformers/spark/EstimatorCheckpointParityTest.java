package io.sparkformers.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint written by a Spark Estimator loads in {@code transformers}: a deterministic {@link TextClassifier} fit
 * (local[1], one replica, seed 42, 16 steps on 32 toy rows, the seeded tiny BERT without dropout) writes its folder; the
 * reference {@code estimator/text_classifier.json} holds what {@code transformers} 4.57.6 made of that folder
 * ({@code AutoModelForSequenceClassification.from_pretrained(..., output_loading_info=True)}: missing, unexpected and
 * mismatched keys, its state-dict keys, its logits for fixed texts), made by
 * {@code lib/src/test/python/make_estimator_references.py}. The test re-runs the same fit and asserts that HF found
 * nothing missing or unexpected, that the checkpoint holds exactly HF's keys, and that the returned stage's raw
 * logits equal HF's within 1e-4 relative (plus 1e-6 absolute).
 *
 * <p>To regenerate: run this test with {@code -Dsparkformers.estimatorParity.keep=DIR} (the fit's output folder is
 * then DIR, kept), then the script on DIR.
 */
class EstimatorCheckpointParityTest {

    private static final String KEEP = "sparkformers.estimatorParity.keep";

    @Test
    void textClassifierCheckpointLoadsInTransformersWithEqualLogits(@TempDir Path tmp) throws Exception {
        Path tiny = TrainingFixtures.tinyBertWithoutDropout(tmp.resolve("tiny"));
        String keep = System.getProperty(KEEP, "");
        Path out = keep.isEmpty() ? tmp.resolve("out") : Path.of(keep);
        if (!keep.isEmpty()) Files.createDirectories(out.getParent());
        SparkSession spark = SparkSession.builder()
                .master("local[1]")
                .appName("EstimatorCheckpointParityTest")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "1")
                .getOrCreate();
        try {
            Dataset<Row> train = TrainingFixtures.sentiment(spark, 32, 0, 1);
            TextClassifier.FitResult fit = new TextClassifier()
                    .setModel(tiny.toString())
                    .setOutputDir(out.toString())
                    .setNumWorkers(1)
                    .setPerDeviceTrainBatchSize(8)
                    .setMaxSteps(16)
                    .setLearningRate(3e-2)
                    .setMaxLength(32)
                    .setSeed(42)
                    .setSaveStrategy("no")
                    .setValidationIndicatorCol("")
                    .fitWithSummary(train);

            JsonNode ref;
            try (InputStream in = getClass().getResourceAsStream("/estimator/text_classifier.json")) {
                ref = new ObjectMapper().readTree(in);
            }
            // regenerating (keep set): the folder is written; a fresh reference may not exist yet
            assumeTrue(keep.isEmpty() || ref.has("loading"), "checkpoint kept in " + out + "; now run the script");
            JsonNode loading = ref.get("loading");
            for (String k : new String[] {"missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs"}) {
                assertEquals(0, loading.get(k).size(), "transformers reported " + k + ": " + loading.get(k));
            }
            assertEquals("BertForSequenceClassification", ref.get("class").asText());

            TreeSet<String> ours = new TreeSet<>(
                    TrainingFixtures.weights(fit.summary().outputDir()).keySet());
            TreeSet<String> hf = new TreeSet<>();
            ref.get("model_keys").forEach(k -> hf.add(k.asText()));
            assertEquals(hf, ours, "the checkpoint's keys against BertForSequenceClassification's state dict");

            List<Row> rows = new ArrayList<>();
            ref.get("inputs").forEach(t -> rows.add(RowFactory.create(t.asText())));
            StructType schema = new StructType().add("text", DataTypes.StringType, false);
            List<Row> scored = fit.model()
                    .setFunctionToApply("none")
                    .setProbabilitiesCol("logits")
                    .setProbabilitiesType("array")
                    .transform(spark.createDataFrame(rows, schema))
                    .select("text", "logits")
                    .collectAsList();
            JsonNode logits = ref.get("logits");
            assertEquals(logits.size(), scored.size());
            // the texts must move the logits far more than the tolerance, or the comparison would not see the encoder
            double spread = 0;
            for (int j = 0; j < logits.get(0).size(); j++) {
                double lo = Double.MAX_VALUE, hi = -Double.MAX_VALUE;
                for (JsonNode l : logits) {
                    lo = Math.min(lo, l.get(j).asDouble());
                    hi = Math.max(hi, l.get(j).asDouble());
                }
                spread = Math.max(spread, hi - lo);
            }
            assertTrue(spread >= 1e-4, "the reference logits barely depend on the text: spread " + spread);
            double worst = 0;
            for (int i = 0; i < scored.size(); i++) {
                assertEquals(ref.get("inputs").get(i).asText(), scored.get(i).getString(0));
                List<Float> got = scored.get(i).getList(1);
                JsonNode want = logits.get(i);
                assertEquals(want.size(), got.size(), "labels of input " + i);
                for (int j = 0; j < got.size(); j++) {
                    double w = want.get(j).asDouble();
                    double d = Math.abs(got.get(j) - w);
                    worst = Math.max(worst, d / Math.max(Math.abs(w), 1e-12));
                    assertTrue(
                            d <= 1e-4 * Math.abs(w) + 1e-6,
                            "input " + i + " '" + scored.get(i).getString(0) + "' label " + j + ": ours " + got.get(j)
                                    + ", transformers " + w);
                }
            }
            System.out.printf(
                    "Estimator checkpoint parity: %d keys, %d inputs, worst relative logit diff %.3g%n",
                    ours.size(), scored.size(), worst);
        } finally {
            spark.stop();
        }
    }
}
