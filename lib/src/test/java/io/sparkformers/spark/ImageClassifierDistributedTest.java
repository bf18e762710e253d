package io.sparkformers.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkformers.hub.Json;
import io.sparkformers.nn.vision.cnn.CnnConfig;
import io.sparkformers.safetensors.SafetensorsCheckpoint;
import io.sparkformers.safetensors.Tensor;
import io.sparkformers.train.ImageDataset;
import io.sparkformers.train.TinyImages;
import io.sparkformers.train.Trainer;
import io.sparkformers.vision.ImageProcessor;
import io.sparkformers.vision.RgbImage;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
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
 * The image Estimator's data-parallel fit in local[2] (two replicas in one JVM) on seeded tiny ResNet-18s and PNG
 * rows: 2 workers × batch b equal 1 worker × batch 2b under feature extraction (the base in eval mode, so the batch
 * split cannot change a gradient); from scratch with 2 workers the replicas stay identical at every step, learn the
 * patterns, and the saved BatchNorm statistics are rank 0's; a corrupt row fails the fit before any replica starts.
 */
class ImageClassifierDistributedTest {
    static SparkSession spark;
    static Path pretrained;
    static Path scratchConfig;

    @TempDir
    static Path shared;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() throws Exception {
        spark = TrainingFixtures.trainingSession("ImageClassifierDistributedTest");
        pretrained = TinyImages.checkpoint(shared.resolve("pretrained"), "resnet18-torchvision", List.of("a", "b"), 5);
        scratchConfig = Files.createDirectories(shared.resolve("scratch-config"));
        Json.write(
                scratchConfig.resolve("config.json"),
                CnnConfig.tiny("resnet18-torchvision", 3).toJson());
        Json.write(
                scratchConfig.resolve(ImageProcessor.CONFIG_FILE),
                TinyImages.processor().toJson());
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
        ExecutorModels.clear();
    }

    /** {@code data} as rows (content: PNG bytes, label: class name), in 3 partitions. */
    static Dataset<Row> rows(ImageDataset data) throws IOException {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < data.size(); i++)
            rows.add(RowFactory.create(png(data.image(i)), data.labels().get(data.label(i))));
        StructType schema =
                new StructType().add("content", DataTypes.BinaryType).add("label", DataTypes.StringType);
        return spark.createDataFrame(rows, schema).repartition(3);
    }

    static byte[] png(RgbImage img) throws IOException {
        BufferedImage out = new BufferedImage(img.width(), img.height(), BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < img.height(); y++) {
            for (int x = 0; x < img.width(); x++) {
                out.setRGB(x, y, (img.get(x, y, 0) << 16) | (img.get(x, y, 1) << 8) | img.get(x, y, 2));
            }
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ImageIO.write(out, "png", bytes);
        return bytes.toByteArray();
    }

    static Map<String, Tensor> weights(String dir) throws IOException {
        try (SafetensorsCheckpoint w = SafetensorsCheckpoint.open(Path.of(dir.replaceFirst("^file:", "")))) {
            return w.readAll();
        }
    }

    /** Max |a - b| over the float tensors both hold. */
    static double maxAbsDiff(Map<String, Tensor> a, Map<String, Tensor> b) {
        assertEquals(a.keySet(), b.keySet());
        double max = 0;
        for (String k : a.keySet()) {
            if (!a.get(k).dtype().name().equals("F32")) continue;
            float[] x = a.get(k).toFloatArray();
            float[] y = b.get(k).toFloatArray();
            for (int i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - y[i]));
        }
        return max;
    }

    /** Number of NaN or infinite values of each float tensor that has any. */
    static Map<String, Integer> nonFinite(Map<String, Tensor> w) {
        Map<String, Integer> out = new java.util.TreeMap<>();
        w.forEach((k, t) -> {
            if (!t.dtype().name().equals("F32")) return;
            int n = 0;
            for (float v : t.toFloatArray()) if (!Float.isFinite(v)) n++;
            if (n > 0) out.put(k, n);
        });
        return out;
    }

    private ImageClassifier classifier(String out, int workers, int batch) {
        return new ImageClassifier()
                .setModel(pretrained.toString())
                .setInputCol("content")
                .setOutputDir(out)
                .setMode("feature_extraction")
                .setNumWorkers(workers)
                .setTrainBatchSize(batch)
                .setMaxSteps(4)
                .setLearningRate(1e-2)
                .setCheckConsistencyEverySteps(1);
    }

    @Test
    void twoWorkersWithBatchBEqualOneWorkerWithBatch2BUnderFeatureExtraction() throws Exception {
        Dataset<Row> df = rows(TinyImages.dataset(8, 3, 11));
        ImageClassifier.FitResult one =
                classifier(tmp.resolve("one").toString(), 1, 8).fitWithSummary(df);
        ImageClassifier.FitResult two =
                classifier(tmp.resolve("two").toString(), 2, 4).fitWithSummary(df);
        Map<String, Tensor> w1 = weights(one.summary().outputDir());
        Map<String, Tensor> w2 = weights(two.summary().outputDir());
        double diff = maxAbsDiff(w1, w2);
        assertTrue(diff <= 1e-5, "max |diff| between 1 worker (batch 8) and 2 workers (batch 4) = " + diff);
        assertEquals(3, w2.get("fc.bias").shape()[0], "a new head for the data's 3 classes");
        assertEquals(2, ((Number) two.summary().trainMetrics().get("train_world_size")).intValue());
        assertEquals(2, two.summary().workers().size());
        assertEquals(
                List.of("checker", "horizontal", "vertical"),
                new ArrayList<>(new java.util.TreeMap<>(io.sparkformers.nn.vision.VisionModels.fromPretrained(
                                        Path.of(two.summary().outputDir().replaceFirst("^file:", "")), true)
                                .model()
                                .id2label())
                        .values()));
        System.out.printf("image equivalence (feature_extraction): max |diff| %.3g%n", diff);
    }

    @Test
    void fromScratchWithTwoWorkersLearnsAndSavesRankZeroStatistics() throws Exception {
        ImageDataset train = TinyImages.dataset(16, 3, 21);
        Dataset<Row> df = rows(train);
        String out = tmp.resolve("scratch").toString();
        ImageClassifier.FitResult r = new ImageClassifier()
                .setModel(scratchConfig.toString())
                .setFromScratch(true)
                .setMode("fine_tune")
                .setInputCol("content")
                .setOutputDir(out)
                .setNumWorkers(2)
                .setTrainBatchSize(6)
                .setNumTrainEpochs(4)
                .setLearningRate(3e-3)
                .setCheckConsistencyEverySteps(1)
                .fitWithSummary(df);
        assertEquals(2, ((Number) r.summary().trainMetrics().get("train_world_size")).intValue());
        // the saved classes are the data's, sorted; the from-scratch config's own labels are replaced
        ImageDataset sorted =
                train.relabel("sorted", id -> List.of(1, 2, 0).get(id), List.of("checker", "horizontal", "vertical"));
        Map<String, Tensor> w = weights(out);
        assertEquals(
                Map.of(),
                nonFinite(w),
                "saved tensors holding NaN or Inf (count by name); training loss "
                        + r.summary().trainMetrics().get("train_loss"));
        Map<String, Double> metrics = Trainer.evaluate(Path.of(out), sorted, 16);
        assertTrue(metrics.get("eval_accuracy") >= 0.9, "training accuracy after 4 epochs: " + metrics);
        assertTrue(w.containsKey("layer4.1.bn2.running_mean") && w.containsKey("bn1.num_batches_tracked"));
        assertThrows(
                IllegalArgumentException.class,
                () -> new ImageClassifier()
                        .setModel(scratchConfig.toString())
                        .setFromScratch(true)
                        .setMode("feature_extraction")
                        .setInputCol("content")
                        .fit(df));
        System.out.printf("image from scratch, 2 workers: %s%n", metrics);
    }

    @Test
    void aCorruptRowFailsTheFitNamingItBeforeAnyReplicaStarts() throws Exception {
        Dataset<Row> good = rows(TinyImages.dataset(2, 2, 31));
        Dataset<Row> bad = good.union(spark.createDataFrame(
                List.of(RowFactory.create(new byte[] {1, 2, 3}, "horizontal")), good.schema()));
        ImageClassifier c = classifier(tmp.resolve("bad").toString(), 2, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.fit(bad));
        assertTrue(
                e.getMessage().contains("cannot train on")
                        && e.getMessage().contains("row 0")
                        && e.getMessage().contains("handleInvalid"),
                e.getMessage());
        assertTrue(!Files.exists(tmp.resolve("bad").resolve("model.safetensors")));
    }
}
