package io.sparkformers.spark;

import static io.sparkformers.spark.SparkTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import io.sparkformers.convert.BuiltinModels;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import io.sparkformers.pipeline.FillMaskPipeline;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.Param;
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

/** The stages in local[2]: parity with the plain-Java path, order, load-once, bad input, schema errors, persistence. */
class SparkStagesTest {
    static SparkSession spark;
    static String model;

    @BeforeAll
    static void start() throws Exception {
        spark = local("SparkStagesTest");
        model = miniLm();
    }

    @AfterAll
    static void stop() {
        spark.stop();
        ExecutorModels.clear();
    }

    private static List<double[]> embeddings(Dataset<Row> out, String col) {
        List<double[]> res = new ArrayList<>();
        for (Row r : out.orderBy("id").collectAsList()) res.add(((Vector) r.getAs(col)).toArray());
        return res;
    }

    @Test
    void sentenceEmbedderMatchesHfModelAndKeepsRowsAndOrderOverPartitions() throws Exception {
        List<String> texts = mixedTexts(40);
        ExecutorModels.clear();
        int loadsBefore = ExecutorModels.loads();
        SentenceEmbedder embedder =
                new SentenceEmbedder().setModel(model).setMaxTokensPerBatch(512).setBatchSize(8);
        List<Row> rows = embedder.transform(frame(spark, texts, 4)).collectAsList(); // partition order, no sort

        assertEquals(texts.size(), rows.size());
        assertEquals(1, ExecutorModels.loads() - loadsBefore, "one load for 4 partitions on 2 task threads");
        try (HfModel m = HfModel.fromPretrained(
                        HfCheckpoint.open(Path.of(model)), Task.SENTENCE_EMBEDDING, ai.djl.Device.cpu());
                TextTokenizer tok = m.tokenizer(512)) {
            double worst = 0;
            for (int i = 0; i < texts.size(); i++) {
                assertEquals(i, rows.get(i).getInt(0), "row order");
                assertEquals(texts.get(i), rows.get(i).getString(1), "input columns pass through");
                float[] ref = direct(m, tok, List.of(texts.get(i)))[0];
                worst = Math.max(worst, maxAbsDiff(ref, ((Vector) rows.get(i).getAs("embedding")).toArray()));
            }
            assertTrue(worst <= 1e-5, "max |diff| vs HfModel = " + worst);
        }
        InferenceMetrics metrics = embedder.lastMetrics();
        assertEquals(40, metrics.rows());
        assertTrue(metrics.paddingEfficiency() > 0.5 && metrics.paddingEfficiency() <= 1.0, metrics.summary());
    }

    @Test
    void sentenceEmbedderTruncatesAtMaxSeqLength256LikeSentenceTransformersUnlessMaxLengthIsSet() throws Exception {
        String longText = String.join(" ", java.util.Collections.nCopies(60, "spark scores every row of the lake"));
        Dataset<Row> df = frame(spark, List.of(longText), 1);
        double[] byDefault = ((Vector) new SentenceEmbedder()
                        .setModel(model)
                        .transform(df)
                        .first()
                        .getAs("embedding"))
                .toArray();
        double[] at512 = ((Vector) new SentenceEmbedder()
                        .setModel(model)
                        .setMaxLength(512)
                        .transform(df)
                        .first()
                        .getAs("embedding"))
                .toArray();
        try (HfModel m = HfModel.fromPretrained(
                        HfCheckpoint.open(Path.of(model)), Task.SENTENCE_EMBEDDING, ai.djl.Device.cpu());
                TextTokenizer tok256 = m.tokenizer(256);
                TextTokenizer tok512 = m.tokenizer(512)) {
            assertTrue(
                    maxAbsDiff(direct(m, tok256, List.of(longText))[0], byDefault) <= 1e-5,
                    "all-MiniLM-L6-v2 embeds at most 256 tokens (sentence_bert_config.json max_seq_length)");
            assertTrue(maxAbsDiff(direct(m, tok512, List.of(longText))[0], at512) <= 1e-5, "maxLength set: 512");
            assertTrue(
                    maxAbsDiff(direct(m, tok512, List.of(longText))[0], byDefault) > 1e-3,
                    "the text is longer than 256 tokens, so the two differ");
        }
    }

    @Test
    void miniLmCosineOfTheEatingSentencesIsAbout0755() {
        Dataset<Row> out = new SentenceEmbedder()
                .setModel(model)
                .setOutputType("array")
                .transform(frame(spark, List.of("A man is eating food.", "A man is eating a piece of bread."), 2));
        assertEquals(
                DataTypes.createArrayType(DataTypes.FloatType, false),
                out.schema().apply("embedding").dataType());
        List<Row> rows = out.orderBy("id").collectAsList();
        double[][] v = new double[2][];
        for (int i = 0; i < 2; i++) {
            List<Float> f = rows.get(i).getList(2);
            v[i] = f.stream().mapToDouble(Float::doubleValue).toArray();
        }
        assertEquals(384, v[0].length);
        assertEquals(0.755, cosine(v[0], v[1]), 0.01);
    }

    @Test
    void tokenizerThenEmbedderEqualsTheSingleStage() throws Exception {
        List<String> texts = mixedTexts(12);
        Dataset<Row> df = frame(spark, texts, 3);
        HuggingFaceTokenizer tokenizer =
                new HuggingFaceTokenizer().setModel(model).setMaxLength(128);
        Dataset<Row> tokens = tokenizer.transform(df);
        assertEquals(
                DataTypes.createArrayType(DataTypes.IntegerType, false),
                tokens.schema().apply("input_ids").dataType());
        Row first = tokens.orderBy("id").first();
        try (TextTokenizer tok = ExecutorModels.loadTokenizer(Path.of(model), 128)) {
            long[] expected = tok.encode(texts.get(0)).getIds();
            List<Integer> got = first.getList(first.fieldIndex("input_ids"));
            assertEquals(
                    Arrays.stream(expected).boxed().toList(),
                    got.stream().map(Integer::longValue).toList());
        }
        PipelineModel pipeline = new Pipeline()
                .setStages(new PipelineStage[] {
                    tokenizer, new SentenceEmbedder().setModel(model).setMaxLength(128)
                })
                .fit(df);
        List<double[]> viaTokens = embeddings(pipeline.transform(df), "embedding");
        List<double[]> single = embeddings(
                new SentenceEmbedder().setModel(model).setMaxLength(128).transform(df), "embedding");
        for (int i = 0; i < texts.size(); i++) assertArrayEquals(single.get(i), viaTokens.get(i), 1e-6, "row " + i);
    }

    @Test
    void featureExtractorGivesOneVectorPerTokenLikeTheBaseModel() throws Exception {
        Dataset<Row> out =
                new FeatureExtractor().setModel(model).transform(frame(spark, List.of("Hello Spark world", "hi"), 2));
        List<Row> rows = out.orderBy("id").collectAsList();
        try (HfModel m = HfModel.fromPretrained(HfCheckpoint.open(Path.of(model)), Task.BASE, ai.djl.Device.cpu());
                TextTokenizer tok = m.tokenizer(512)) {
            float[] ref = direct(m, tok, List.of("Hello Spark world"))[0];
            List<Object> tokens = rows.get(0).getList(2);
            assertEquals(tok.encode("Hello Spark world").getIds().length, tokens.size());
            double worst = 0;
            for (int t = 0; t < tokens.size(); t++) {
                scala.collection.Seq<?> vec = (scala.collection.Seq<?>) tokens.get(t);
                assertEquals(384, vec.size());
                for (int j = 0; j < 384; j++)
                    worst = Math.max(worst, Math.abs((Float) vec.apply(j) - ref[t * 384 + j]));
            }
            assertTrue(worst <= 1e-5, "max |diff| = " + worst);
            assertEquals(3, rows.get(1).getList(2).size(), "[CLS] hi [SEP], unpadded");
        }
    }

    private static Dataset<Row> badRows() {
        String mega = "spark ".repeat(1 << 20 / 6 + 1); // ~1 MB of text
        List<Row> rows = List.of(
                RowFactory.create(0, "fine text"),
                RowFactory.create(1, null),
                RowFactory.create(2, ""),
                RowFactory.create(3, "   \t "),
                RowFactory.create(4, mega));
        return spark.createDataFrame(rows, TEXTS).repartition(1);
    }

    @Test
    void handleInvalidKeepFlagsNullEmptyAndBlankAndTruncatesAMegabyte() {
        List<Row> out = new SentenceEmbedder()
                .setModel(model)
                .setHandleInvalid("keep")
                .transform(badRows())
                .orderBy("id")
                .collectAsList();
        assertEquals(5, out.size());
        assertNotNull(out.get(0).getAs("embedding"));
        assertNull(out.get(0).getAs("embedding_error"));
        assertEquals("text is null", out.get(1).getAs("embedding_error"));
        assertEquals("text is empty", out.get(2).getAs("embedding_error"));
        assertEquals("text is whitespace only", out.get(3).getAs("embedding_error"));
        assertNull(out.get(1).getAs("embedding"));
        assertNotNull(out.get(4).getAs("embedding"), "1 MB of text is truncated to maxLength and scored");
    }

    @Test
    void handleInvalidSkipDropsTheBadRows() {
        List<Row> out = new SentenceEmbedder()
                .setModel(model)
                .setHandleInvalid("skip")
                .transform(badRows())
                .orderBy("id")
                .collectAsList();
        assertEquals(List.of(0, 4), out.stream().map(r -> r.getInt(0)).toList());
    }

    @Test
    void handleInvalidErrorNamesTheRowAndTheReason() {
        Exception e = assertThrows(
                Exception.class,
                () -> new SentenceEmbedder()
                        .setModel(model)
                        .transform(badRows())
                        .count());
        String msg = rootMessage(e);
        assertTrue(
                msg.contains("row 1 of partition 0")
                        && msg.contains("text is null")
                        && msg.contains("'text'")
                        && msg.contains("handleInvalid"),
                msg);
    }

    private static String rootMessage(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause())
            sb.append(t.getMessage()).append(" | ");
        return sb.toString();
    }

    @Test
    void schemaErrorsNameTheColumnBeforeAnyJob() {
        StructType schema = new StructType()
                .add("n", DataTypes.IntegerType)
                .add("embedding", DataTypes.StringType)
                .add("text", DataTypes.StringType);
        SentenceEmbedder e = new SentenceEmbedder().setModel(model);
        var missing = assertThrows(
                IllegalArgumentException.class, () -> e.setInputCol("body").transformSchema(schema));
        assertTrue(missing.getMessage().contains("Input column 'body' does not exist"), missing.getMessage());
        var type = assertThrows(
                IllegalArgumentException.class, () -> e.setInputCol("n").transformSchema(schema));
        assertTrue(type.getMessage().contains("'n' must be string type but got int"), type.getMessage());
        var exists = assertThrows(
                IllegalArgumentException.class, () -> e.setInputCol("text").transformSchema(schema));
        assertTrue(exists.getMessage().contains("Output column 'embedding' already exists"), exists.getMessage());
        var noModel = assertThrows(IllegalArgumentException.class, () -> new SentenceEmbedder().transformSchema(TEXTS));
        assertTrue(noModel.getMessage().contains("model Param is not set"), noModel.getMessage());
        var tok = assertThrows(
                IllegalArgumentException.class,
                () -> new HuggingFaceTokenizer()
                        .setModel(model)
                        .setInputCol("n")
                        .transformSchema(schema));
        assertTrue(tok.getMessage().contains("'n' must be string type"), tok.getMessage());
    }

    @Test
    void unreadableModelPathIsAClearErrorBeforeAnyJob(@TempDir Path tmp) {
        var e = assertThrows(
                RuntimeException.class,
                () -> new SentenceEmbedder()
                        .setModel(tmp.resolve("nope").toString())
                        .transform(frame(spark, List.of("x"), 1)));
        assertTrue(
                e.getMessage().contains("nope")
                        && (e.getMessage().contains("not a readable folder")
                                || e.getMessage().contains("not a local folder")),
                e.getMessage());
        var notCheckpoint = assertThrows(
                RuntimeException.class,
                () -> new SentenceEmbedder().setModel(tmp.toString()).transform(frame(spark, List.of("x"), 1)));
        assertTrue(notCheckpoint.getMessage().contains("no config.json"), notCheckpoint.getMessage());
    }

    @Test
    void pipelineModelSaveLoadCarriesTheWeights(@TempDir Path tmp) throws Exception {
        Path source = tmp.resolve("model-copy");
        copyTree(Path.of(model), source);
        Dataset<Row> df = frame(spark, mixedTexts(6), 2);
        PipelineModel pm = new Pipeline()
                .setStages(new PipelineStage[] {
                    new HuggingFaceTokenizer().setModel(source.toString()).setMaxLength(64),
                    new SentenceEmbedder()
                            .setModel(source.toString())
                            .setMaxLength(64)
                            .setOutputType("array")
                })
                .fit(df);
        List<Row> before = pm.transform(df).orderBy("id").collectAsList();
        String saved = tmp.resolve("saved").toString();
        pm.write().overwrite().save(saved);
        ModelRefs.deleteTree(source);
        ExecutorModels.clear();

        PipelineModel loaded = PipelineModel.load(saved);
        SentenceEmbedder e = (SentenceEmbedder) loaded.stages()[1];
        assertTrue(e.getModel().endsWith("/data") && e.getModel().contains("saved"), e.getModel());
        assertEquals(64, e.getMaxLength());
        assertTrue(
                Files.isRegularFile(Path.of(java.net.URI.create(e.getModel())).resolve("model.safetensors")));
        List<Row> after = loaded.transform(df).orderBy("id").collectAsList();
        assertEquals(before, after, "identical scores after reload from the saved folder only");
    }

    @Test
    void everyParamHasADocAndCopiesKeepValues() {
        for (ModelStage<?> s :
                List.<ModelStage<?>>of(new SentenceEmbedder(), new FeatureExtractor(), new FillMasker())) {
            for (Param<?> p : s.params()) {
                assertEquals(s.uid(), p.parent(), p.name());
                assertFalse(p.doc().isBlank(), p.name());
            }
            s.setModel("m").setBatchSize(7);
            ModelStage<?> c = (ModelStage<?>) s.copy(new org.apache.spark.ml.param.ParamMap());
            assertEquals(s.uid(), c.uid());
            assertEquals(7, c.getBatchSize());
        }
        var bad = assertThrows(IllegalArgumentException.class, () -> new SentenceEmbedder().setHandleInvalid("drop"));
        assertTrue(bad.getMessage().contains("handleInvalid"), bad.getMessage());
    }

    @Test
    void fillMaskerRanksParisFirstLikeThePlainJavaPipeline() throws Exception {
        String bert =
                BuiltinModels.resolve(BuiltinModels.get("bert-base-uncased")).toString();
        List<String> texts =
                List.of("The capital of France is [MASK].", "no mask here", "I [MASK] to the [MASK] yesterday.");
        List<Row> out = new FillMasker()
                .setModel(bert)
                .setTopK(3)
                .setHandleInvalid("keep")
                .transform(frame(spark, texts, 2))
                .orderBy("id")
                .collectAsList();
        List<Row> paris = out.get(0).getList(2);
        assertEquals("paris", paris.get(0).getAs("token_str"));
        assertEquals("the capital of france is paris.", paris.get(0).getAs("sequence"));
        assertTrue(((String) out.get(1).getAs("fill_mask_error")).contains("no mask token"));
        assertEquals(6, out.get(2).getList(2).size(), "two masks x top 3");
        try (HfModel m = HfModel.fromPretrained(Path.of(bert), Task.MASKED_LM);
                FillMaskPipeline p = new FillMaskPipeline(m, m.tokenizer(512))) {
            var ref = p.fill(List.of(texts.get(0)), 3, null).get(0).get(0);
            for (int k = 0; k < 3; k++) {
                assertEquals(ref.get(k).tokenStr(), paris.get(k).getAs("token_str"));
                assertEquals(ref.get(k).score(), (double) paris.get(k).getAs("score"), 1e-5);
            }
        }
    }

    static void copyTree(Path from, Path to) throws Exception {
        try (var walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(t);
                else Files.copy(p, t);
            }
        }
    }
}
