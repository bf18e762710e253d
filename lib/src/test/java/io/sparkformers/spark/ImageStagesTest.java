package io.sparkformers.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.split;
import static org.apache.spark.sql.functions.when;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkformers.pipeline.ImageClassificationPipeline;
import io.sparkformers.train.TinyImages;
import io.sparkformers.vision.RgbImage;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.apache.spark.SparkException;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.linalg.Vector;
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
 * The image stages in local[2] on a seeded tiny ResNet-18 and PNGs written here: binaryFile and image sources, parity
 * with the plain-Java pipeline, handleInvalid on corrupt/truncated files and odd channel counts, schema errors,
 * the Estimator in a saved and reloaded PipelineModel.
 */
class ImageStagesTest {
    static SparkSession spark;
    static Path images;
    static String model;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() throws Exception {
        spark = SparkTestSupport.local("ImageStagesTest");
        images = Files.createDirectories(tmp.resolve("images"));
        for (int i = 0; i < 6; i++) {
            int c = i % 2;
            writePng(
                    tinted(TinyImages.pattern(c, 32, i)),
                    images.resolve((c == 0 ? "horizontal" : "vertical") + "-" + i + ".png"));
        }
        Files.write(images.resolve("corrupt-bytes.png"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
        byte[] good = Files.readAllBytes(images.resolve("horizontal-0.png"));
        Files.write(images.resolve("truncated.png"), Arrays.copyOf(good, good.length / 2));
        model = TinyImages.checkpoint(tmp.resolve("model"), "resnet18-torchvision", List.of("a", "b", "c"), 3)
                .toString();
    }

    @AfterAll
    static void stop() {
        spark.stop();
        ExecutorModels.clear();
    }

    /** Gray → (v, 0.6 v, 255 - v): colour, so reading Spark's BGR rows as RGB would change the scores. */
    static RgbImage tinted(RgbImage gray) {
        byte[] px = gray.pixels().clone();
        for (int i = 0; i < px.length; i += 3) {
            int v = px[i] & 0xff;
            px[i + 1] = (byte) (v * 3 / 5);
            px[i + 2] = (byte) (255 - v);
        }
        return new RgbImage(gray.width(), gray.height(), px);
    }

    static void writePng(RgbImage img, Path file) throws Exception {
        BufferedImage out = new BufferedImage(img.width(), img.height(), BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < img.height(); y++) {
            for (int x = 0; x < img.width(); x++) {
                out.setRGB(x, y, (img.get(x, y, 0) << 16) | (img.get(x, y, 1) << 8) | img.get(x, y, 2));
            }
        }
        ImageIO.write(out, "png", file.toFile());
    }

    private static Dataset<Row> binaryFiles() {
        return spark.read().format("binaryFile").load(images.toString()).repartition(2);
    }

    @Test
    void classifiesBinaryFilesLikeThePlainJavaPipelineAndFlagsCorruptAndTruncatedFiles() throws Exception {
        ImageClassificationModel stage = new ImageClassificationModel()
                .setModel(model)
                .setInputCol("content")
                .setProbabilityCol("probs")
                .setHandleInvalid("keep")
                .setBatchSize(3);
        List<Row> rows = stage.transform(binaryFiles())
                .select("path", "prediction", "score", "probs", "prediction_error")
                .collectAsList();
        assertEquals(8, rows.size());
        assertEquals(8, stage.lastMetrics().rows());
        assertEquals(2, stage.lastMetrics().invalidRows());
        Map<String, Row> byFile = new HashMap<>();
        for (Row r : rows)
            byFile.put(
                    Path.of(java.net.URI.create(r.getString(0))).getFileName().toString(), r);
        try (ImageClassificationPipeline p = ImageClassificationPipeline.fromPretrained(Path.of(model))) {
            for (int i = 0; i < 6; i++) {
                String name = (i % 2 == 0 ? "horizontal" : "vertical") + "-" + i + ".png";
                Row r = byFile.get(name);
                var expected =
                        p.classifyFiles(List.of(images.resolve(name)), 1).get(0).get(0);
                assertEquals(expected.label(), r.getString(1), name);
                // batched convolutions (3 images) differ from single-image ones in the last float bits
                assertEquals(expected.score(), r.getDouble(2), 1e-5, name);
                assertEquals(3, ((Vector) r.get(3)).size());
                assertNull(r.get(4));
            }
        }
        Row corrupt = byFile.get("corrupt-bytes.png");
        assertNull(corrupt.get(1));
        assertTrue(
                corrupt.getString(4).contains("corrupt-bytes.png")
                        && corrupt.getString(4).contains("not a JPEG, PNG"),
                corrupt.getString(4));
        Row truncated = byFile.get("truncated.png");
        assertNull(truncated.get(1));
        assertTrue(truncated.getString(4).contains("truncated.png"), truncated.getString(4));

        assertEquals(
                6,
                stage.copy(new org.apache.spark.ml.param.ParamMap())
                        .setHandleInvalid("skip")
                        .setProbabilityCol("")
                        .transform(binaryFiles())
                        .count());
        SparkException e = assertThrows(
                SparkException.class,
                () -> stage.copy(new org.apache.spark.ml.param.ParamMap())
                        .setHandleInvalid("error")
                        .transform(binaryFiles())
                        .collectAsList());
        String msg = String.valueOf(e.getMessage())
                + (e.getCause() == null ? "" : e.getCause().getMessage());
        assertTrue(
                msg.contains("invalid image in column 'content'")
                        && msg.contains("handleInvalid")
                        && msg.matches("(?s).*row \\d+ of partition \\d+ \\(0-based, in partition order\\).*"),
                msg);
    }

    @Test
    void readsSparkImageRowsInBgrOrderAndRejectsUnexpectedChannelCounts() throws Exception {
        Dataset<Row> df =
                spark.read().format("image").option("dropInvalid", true).load(images.toString());
        ImageClassificationModel stage = new ImageClassificationModel().setModel(model);
        List<Row> rows = stage.transform(df)
                .select("image.origin", "prediction", "score")
                .collectAsList();
        assertEquals(6, rows.size());
        try (ImageClassificationPipeline p = ImageClassificationPipeline.fromPretrained(Path.of(model))) {
            for (Row r : rows) {
                Path file = Path.of(java.net.URI.create(r.getString(0)));
                var expected = p.classifyFiles(List.of(file), 1).get(0).get(0);
                assertEquals(expected.label(), r.getString(1), file.toString());
                assertEquals(expected.score(), r.getDouble(2), 1e-5, file.toString());
            }
        }
        StructType imageType = (StructType) df.schema().apply("image").dataType();
        Row twoChannels = RowFactory.create(RowFactory.create("mem://two-channels", 2, 2, 2, 0, new byte[8]));
        Dataset<Row> odd = spark.createDataFrame(List.of(twoChannels), new StructType().add("image", imageType));
        Row out = stage.copy(new org.apache.spark.ml.param.ParamMap())
                .setHandleInvalid("keep")
                .transform(odd)
                .select("prediction", "prediction_error")
                .first();
        assertNull(out.get(0));
        assertTrue(
                out.getString(1).contains("mem://two-channels")
                        && out.getString(1).contains("unexpected channel count 2"),
                out.getString(1));
    }

    @Test
    void nonImageColumnsAndExistingOutputsFailBeforeAnyJob() {
        Dataset<Row> df = binaryFiles();
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> new ImageClassificationModel()
                        .setModel(model)
                        .setInputCol("path")
                        .transformSchema(df.schema()));
        assertTrue(
                e.getMessage().contains("Input column 'path' must be an image struct")
                        && e.getMessage().contains("but got string"),
                e.getMessage());
        IllegalArgumentException missing = assertThrows(
                IllegalArgumentException.class,
                () -> new ImageFeatureExtractor().setModel(model).transformSchema(df.schema()));
        assertTrue(missing.getMessage().contains("Input column 'image' does not exist"), missing.getMessage());
        IllegalArgumentException exists = assertThrows(
                IllegalArgumentException.class,
                () -> new ImageFeatureExtractor()
                        .setModel(model)
                        .setInputCol("content")
                        .setOutputCol("path")
                        .transformSchema(df.schema()));
        assertTrue(exists.getMessage().contains("Output column 'path' already exists"), exists.getMessage());
    }

    @Test
    void featureExtractorGivesOneVectorOrArrayPerImage() {
        ImageFeatureExtractor fx = new ImageFeatureExtractor()
                .setModel(model)
                .setInputCol("content")
                .setHandleInvalid("skip");
        List<Row> vectors = fx.transform(binaryFiles()).select("features").collectAsList();
        assertEquals(6, vectors.size());
        assertEquals(64, ((Vector) vectors.get(0).get(0)).size(), "penultimate width of a width-8 ResNet-18");
        Row arr = fx.copy(new org.apache.spark.ml.param.ParamMap())
                .setOutputType("array")
                .transform(binaryFiles())
                .select("features")
                .first();
        assertEquals(64, arr.getList(0).size());
        assertEquals(
                DataTypes.createArrayType(DataTypes.FloatType, false),
                fx.copy(new org.apache.spark.ml.param.ParamMap())
                        .setOutputType("array")
                        .transformSchema(binaryFiles().schema())
                        .apply("features")
                        .dataType());
    }

    @Test
    void imageClassifierFitsANewHeadAndSurvivesPipelineModelSaveAndLoad() throws Exception {
        Dataset<Row> df = binaryFiles()
                .withColumn(
                        "label",
                        when(element_at(split(col("path"), "/"), -1).startsWith("horizontal"), "horizontal")
                                .when(element_at(split(col("path"), "/"), -1).startsWith("vertical"), "vertical")
                                .otherwise("unknown"));
        ImageClassifier classifier = new ImageClassifier()
                .setModel(model)
                .setInputCol("content")
                .setHandleInvalid("skip")
                .setMaxSteps(3)
                .setTrainBatchSize(4)
                .setOutputDir(tmp.resolve("fitted").toString());
        IllegalArgumentException notImage = assertThrows(
                IllegalArgumentException.class,
                () -> classifier
                        .copy(new org.apache.spark.ml.param.ParamMap())
                        .setInputCol("label")
                        .fit(df));
        assertTrue(
                notImage.getMessage().contains("Input column 'label' must be an image struct"), notImage.getMessage());

        PipelineModel fitted =
                new Pipeline().setStages(new PipelineStage[] {classifier}).fit(df);
        ImageClassificationModel m = (ImageClassificationModel) fitted.stages()[0];
        assertEquals(classifier, m.parent());
        assertTrue(Files.isRegularFile(Path.of(m.getModel()).resolve("preprocessor_config.json")));
        List<Row> before = fitted.transform(df.where("label != 'unknown'"))
                .orderBy("path")
                .select("prediction", "score")
                .collectAsList();
        assertTrue(before.stream()
                .allMatch(r ->
                        r.getString(0).equals("horizontal") || r.getString(0).equals("vertical")));

        String saved = tmp.resolve("pipeline").toString();
        fitted.write().overwrite().save(saved);
        assertTrue(Files.isRegularFile(
                Path.of(saved, "stages").toFile().listFiles()[0].toPath().resolve("data/model.safetensors")));
        PipelineModel loaded = PipelineModel.load(saved);
        List<Row> after = loaded.transform(df.where("label != 'unknown'"))
                .orderBy("path")
                .select("prediction", "score")
                .collectAsList();
        assertEquals(before, after);
    }

    @Test
    void aGiganticImageBatchSizeIsRefusedBeforeAnyJobNamingTheParam() {
        Dataset<Row> df = binaryFiles();
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> new ImageClassificationModel()
                        .setModel(model)
                        .setInputCol("content")
                        .setBatchSize(1 << 30)
                        .transform(df));
        assertEquals(
                "batchSize must be <= 4096 images per forward pass (a batch's decoded images and activations are held "
                        + "at once), got 1073741824",
                e.getMessage());
    }
}
