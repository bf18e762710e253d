package io.sparkformers.spark;

import static io.sparkformers.spark.SparkTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.nn.Task;
import io.sparkformers.pipeline.Pipeline;
import io.sparkformers.pipeline.PipelineInput;
import io.sparkformers.pipeline.PipelineOptions;
import io.sparkformers.pipeline.Pipelines;
import io.sparkformers.pipeline.QaReferences;
import io.sparkformers.pipeline.QuestionAnsweringPipeline.Answer;
import io.sparkformers.pipeline.TextClassificationPipeline.LabelScore;
import io.sparkformers.pipeline.TinyCheckpoints;
import io.sparkformers.pipeline.TokenClassificationPipeline.Entity;
import io.sparkformers.pipeline.ZeroShotClassificationPipeline.Result;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pipeline-task stages in local[2] on tiny fixed-weight checkpoints: each stage's rows equal the plain-Java
 * pipeline's on the same inputs, in order over several partitions, with the Spark types the stages promise; bad rows
 * under each handleInvalid mode; schema errors before any job; a PipelineModel round trip; one model load per JVM.
 */
class PipelineStagesTest {
    @TempDir
    static Path tmp;

    static SparkSession spark;
    static Path sentiment, ner, qa, nli;

    static final StructType PAIRS = new StructType()
            .add("id", DataTypes.IntegerType, false)
            .add("text", DataTypes.StringType, true)
            .add("pair", DataTypes.StringType, true);
    static final StructType QA = new StructType()
            .add("id", DataTypes.IntegerType, false)
            .add("question", DataTypes.StringType, true)
            .add("context", DataTypes.StringType, true);

    @BeforeAll
    static void start() throws Exception {
        spark = local("PipelineStagesTest");
        sentiment = TinyCheckpoints.write(
                tmp.resolve("sentiment"),
                Task.SEQUENCE_CLASSIFICATION,
                TinyCheckpoints.config(Map.of(0, "NEGATIVE", 1, "NEUTRAL", 2, "POSITIVE"), null),
                "classifier",
                new float[] {0.3f, -0.2f, 0.1f},
                Optional.empty(),
                1f);
        ner = TinyCheckpoints.write(
                tmp.resolve("ner"),
                Task.TOKEN_CLASSIFICATION,
                TinyCheckpoints.config(Map.of(0, "O", 1, "B-PER", 2, "I-PER"), null),
                "classifier",
                new float[] {0f, 0.1f, 0.05f},
                Optional.empty(),
                1f);
        qa = TinyCheckpoints.write(
                tmp.resolve("qa"),
                Task.QUESTION_ANSWERING,
                TinyCheckpoints.config(Map.of(0, "LABEL_0", 1, "LABEL_1"), null),
                "qa_outputs",
                new float[] {0.5f, -0.5f},
                Optional.empty(),
                1f);
        nli = TinyCheckpoints.write(
                tmp.resolve("nli"),
                Task.SEQUENCE_CLASSIFICATION,
                TinyCheckpoints.config(Map.of(0, "contradiction", 1, "neutral", 2, "entailment"), null),
                "classifier",
                new float[] {0.1f, 0.2f, 0.5f},
                Optional.empty(),
                1f);
    }

    @AfterAll
    static void stop() {
        spark.stop();
        ExecutorModels.clear();
    }

    @SuppressWarnings("unchecked")
    private static <O> List<O> reference(String task, Path dir, PipelineOptions o, List<PipelineInput> in)
            throws Exception {
        try (Pipeline<O> p = (Pipeline<O>) Pipelines.create(task, dir, o)) {
            return p.predict(in);
        }
    }

    private static Dataset<Row> rows(StructType schema, List<Row> rows, int partitions) {
        var rdd = JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, partitions);
        return spark.createDataFrame(rdd, schema);
    }

    private static void assertOrdered(List<Row> rows, int n) {
        assertEquals(n, rows.size(), "row count");
        for (int i = 0; i < n; i++) assertEquals(i, rows.get(i).getInt(0), "row order over partitions");
    }

    @Test
    void textClassificationEqualsThePipelineWithProbabilitiesTopKAndPairs() throws Exception {
        List<String> texts = mixedTexts(24);
        int loads = ExecutorModels.loads();
        TextClassificationModel stage = new TextClassificationModel()
                .setModel(sentiment.toString())
                .setProbabilitiesCol("probs")
                .setTopK(2)
                .setBatchSize(4);
        Dataset<Row> out = stage.transform(frame(spark, texts, 4));
        assertEquals(DataTypes.StringType, out.schema().apply("label").dataType());
        assertEquals(DataTypes.DoubleType, out.schema().apply("score").dataType());
        assertEquals(SQLDataTypes.VectorType(), out.schema().apply("probs").dataType());
        assertEquals(
                DataTypes.createArrayType(TextClassificationModel.LABEL_SCORE, false),
                out.schema().apply("top_labels").dataType());
        List<Row> got = out.collectAsList();
        assertOrdered(got, texts.size());
        assertEquals(1, ExecutorModels.loads() - loads, "one load for 4 partitions on 2 task threads");

        List<List<LabelScore>> ref = reference(
                "text-classification",
                sentiment,
                PipelineOptions.builder().topK(PipelineOptions.ALL).build(),
                PipelineInput.texts(texts));
        List<String> labels = List.of("NEGATIVE", "NEUTRAL", "POSITIVE");
        double worst = 0;
        java.util.Set<Double> seen = new java.util.HashSet<>();
        for (int i = 0; i < texts.size(); i++) {
            Row r = got.get(i);
            assertEquals(ref.get(i).get(0).label(), r.getAs("label"), "row " + i);
            seen.add(Math.rint((double) r.getAs("score") * 1e4));
            worst = Math.max(worst, Math.abs(ref.get(i).get(0).score() - (double) r.getAs("score")));
            double[] probs = ((Vector) r.getAs("probs")).toArray();
            for (LabelScore l : ref.get(i))
                worst = Math.max(worst, Math.abs(l.score() - probs[labels.indexOf(l.label())]));
            List<Row> top = r.getList(r.fieldIndex("top_labels"));
            assertEquals(2, top.size());
            assertEquals(ref.get(i).get(1).label(), top.get(1).getString(0));
        }
        assertTrue(worst <= 1e-5, "max |diff| vs TextClassificationPipeline = " + worst);
        assertTrue(seen.size() > 1, "the fixed head weights make scores depend on the text: " + seen);

        List<Row> pairRows = new ArrayList<>();
        for (int i = 0; i < 6; i++) pairRows.add(RowFactory.create(i, texts.get(i), texts.get(i + 6)));
        List<Row> pairs = new TextClassificationModel()
                .setModel(sentiment.toString())
                .setInputPairCol("pair")
                .setProbabilitiesCol("probs")
                .setProbabilitiesType("array")
                .transform(rows(PAIRS, pairRows, 2))
                .collectAsList();
        List<PipelineInput> pairInputs = new ArrayList<>();
        for (int i = 0; i < 6; i++) pairInputs.add(PipelineInput.pair(texts.get(i), texts.get(i + 6)));
        List<List<LabelScore>> pairRef =
                reference("text-classification", sentiment, PipelineOptions.defaults(), pairInputs);
        assertOrdered(pairs, 6);
        for (int i = 0; i < 6; i++) {
            assertEquals(pairRef.get(i).get(0).label(), pairs.get(i).getAs("label"), "pair row " + i);
            assertEquals(pairRef.get(i).get(0).score(), (double) pairs.get(i).getAs("score"), 1e-5);
            assertEquals(
                    3, pairs.get(i).getList(pairs.get(i).fieldIndex("probs")).size(), "array<float> of 3 labels");
        }
    }

    @Test
    void tokenClassificationEqualsThePipelineForEachAggregation() throws Exception {
        List<String> texts = new ArrayList<>(mixedTexts(10));
        texts.add("Johnny Appleseed visited 😀 Sparkville");
        assertEquals("none", new TokenClassificationModel().getAggregationStrategy(), "HF pipeline()'s default");
        for (String strategy : List.of("simple", "none")) {
            List<Row> got = new TokenClassificationModel()
                    .setModel(ner.toString())
                    .setAggregationStrategy(strategy)
                    .setBatchSize(3)
                    .transform(frame(spark, texts, 3))
                    .collectAsList();
            List<List<Entity>> ref = reference(
                    "ner",
                    ner,
                    PipelineOptions.builder().aggregationStrategy(strategy).build(),
                    PipelineInput.texts(texts));
            assertOrdered(got, texts.size());
            int entities = 0;
            for (int i = 0; i < texts.size(); i++) {
                List<Row> e = got.get(i).getList(got.get(i).fieldIndex("entities"));
                assertEquals(ref.get(i).size(), e.size(), strategy + " row " + i);
                for (int k = 0; k < e.size(); k++) {
                    Entity x = ref.get(i).get(k);
                    Row y = e.get(k);
                    assertEquals(
                            List.of(x.entity(), x.start(), x.end(), x.word()),
                            List.of(y.getString(0), y.getInt(2), y.getInt(3), y.getString(4)),
                            strategy + " row " + i);
                    assertEquals(x.score(), y.getDouble(1), 1e-5);
                }
                entities += e.size();
            }
            assertTrue(entities > 0, "some tokens are entities");
        }
    }

    private static List<Row> qaRows(List<String> texts) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            String context = String.join(" ", texts.subList(i, i + 1 + (i % 3) * 4));
            rows.add(RowFactory.create(i, "who scores row " + i + "?", context));
        }
        return rows;
    }

    @Test
    void questionAnsweringEqualsThePipelineOverLongContextWindows() throws Exception {
        List<Row> in = qaRows(mixedTexts(20));
        QuestionAnsweringModel stage = new QuestionAnsweringModel()
                .setModel(qa.toString())
                .setMaxLength(48)
                .setDocStride(16)
                .setMaxAnswerLen(5);
        Dataset<Row> out = stage.transform(rows(QA, in, 3));
        assertEquals(QuestionAnsweringModel.ANSWER, out.schema().apply("answer").dataType());
        List<Row> got = out.collectAsList();
        List<PipelineInput> inputs = in.stream()
                .map(r -> PipelineInput.qa(r.getString(1), r.getString(2)))
                .toList();
        List<List<Answer>> ref = reference(
                "question-answering",
                qa,
                PipelineOptions.builder()
                        .maxLength(48)
                        .docStride(16)
                        .maxAnswerLen(5)
                        .build(),
                inputs);
        assertOrdered(got, in.size());
        for (int i = 0; i < in.size(); i++) {
            Answer a = ref.get(i).get(0);
            Row b = got.get(i).getStruct(got.get(i).fieldIndex("answer"));
            assertEquals(
                    List.of(a.start(), a.end(), a.answer()),
                    List.of(b.getInt(1), b.getInt(2), b.getString(3)),
                    "row " + i);
            assertEquals(a.score(), b.getDouble(0), 1e-5);
        }
    }

    @Test
    void questionAnsweringAnswersAsTransformersOnTheTopOneReferenceCases() throws Exception {
        // the stage gives the best answer: every reference case without top_k, its options set as the stage's Params
        Path checkpoint = QaReferences.checkpoint(tmp.resolve("qa-minilm"));
        int cases = 0;
        for (JsonNode c : QaReferences.cases()) {
            JsonNode o = c.get("options");
            if (o.has("top_k") || o.has("max_question_len")) continue;
            QuestionAnsweringModel stage = new QuestionAnsweringModel().setModel(checkpoint.toString());
            if (o.has("max_seq_len")) stage.setMaxLength(o.get("max_seq_len").asInt());
            if (o.has("doc_stride")) stage.setDocStride(o.get("doc_stride").asInt());
            if (o.has("max_answer_len"))
                stage.setMaxAnswerLen(o.get("max_answer_len").asInt());
            if (o.has("handle_impossible_answer")) {
                stage.setHandleImpossibleAnswer(
                        o.get("handle_impossible_answer").asBoolean());
            }
            List<Row> in = new ArrayList<>();
            for (JsonNode x : c.get("inputs")) {
                in.add(RowFactory.create(
                        in.size(), x.get("question").asText(), x.get("context").asText()));
            }
            List<Row> got = stage.transform(rows(QA, in, 2)).collectAsList();
            assertOrdered(got, in.size());
            for (int i = 0; i < in.size(); i++) {
                JsonNode e = c.get("expected").get(i).get(0);
                Row b = got.get(i).getStruct(got.get(i).fieldIndex("answer"));
                String context = in.get(i).getString(2);
                String where = c.get("name").asText() + " row " + i + ": expected " + e + ", got " + b;
                assertEquals(
                        List.of(
                                e.get("answer").asText(),
                                e.get("start").asInt(),
                                e.get("end").asInt()),
                        List.of(
                                b.getString(3),
                                QaReferences.codePoints(context, b.getInt(1)),
                                QaReferences.codePoints(context, b.getInt(2))),
                        where);
                double want = e.get("score").asDouble();
                assertTrue(Math.abs(b.getDouble(0) - want) <= 1e-4 * want, where);
            }
            cases++;
        }
        assertEquals(6, cases, "top-1 reference cases");
    }

    @Test
    void zeroShotEqualsTheNliPipeline() throws Exception {
        List<String> texts = mixedTexts(9);
        String[] labels = {"sports", "politics", "spark"};
        ZeroShotClassificationModel stage = new ZeroShotClassificationModel()
                .setModel(nli.toString())
                .setCandidateLabels(labels)
                .setHypothesisTemplate("This text is about {}.");
        for (boolean multi : List.of(false, true)) {
            Dataset<Row> out = stage.setMultiLabel(multi).transform(frame(spark, texts, 3));
            assertEquals(
                    DataTypes.createArrayType(DataTypes.StringType, false),
                    out.schema().apply("labels").dataType());
            assertEquals(
                    DataTypes.createArrayType(DataTypes.DoubleType, false),
                    out.schema().apply("scores").dataType());
            List<Row> got = out.collectAsList();
            List<Result> ref = reference(
                    "zero-shot-classification",
                    nli,
                    PipelineOptions.builder()
                            .candidateLabels(List.of(labels))
                            .hypothesisTemplate("This text is about {}.")
                            .multiLabel(multi)
                            .build(),
                    PipelineInput.texts(texts));
            assertOrdered(got, texts.size());
            for (int i = 0; i < texts.size(); i++) {
                assertEquals(ref.get(i).labels(), got.get(i).getList(2), "multiLabel " + multi + " row " + i);
                List<Double> scores = got.get(i).getList(3);
                for (int k = 0; k < labels.length; k++)
                    assertEquals(ref.get(i).scores().get(k), scores.get(k), 1e-5);
            }
        }
    }

    private static String rootMessage(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause())
            sb.append(t.getMessage()).append(" | ");
        return sb.toString();
    }

    @Test
    void handleInvalidModesOnMissingContextsAndEmptyTexts() {
        List<Row> bad = List.of(
                RowFactory.create(0, "who?", "Sparky scores rows."),
                RowFactory.create(1, "who?", null),
                RowFactory.create(2, "  ", "Sparky scores rows."),
                RowFactory.create(3, "who?", "Rows by Sparky."));
        QuestionAnsweringModel stage = new QuestionAnsweringModel().setModel(qa.toString());
        List<Row> kept =
                stage.setHandleInvalid("keep").transform(rows(QA, bad, 1)).collectAsList();
        assertEquals(4, kept.size());
        assertNotNull(kept.get(0).getAs("answer"));
        assertNull(kept.get(1).getAs("answer"));
        assertEquals("context is null (column 'context')", kept.get(1).getAs("answer_error"));
        assertEquals("question is whitespace only", kept.get(2).getAs("answer_error"));
        List<Row> skipped =
                stage.setHandleInvalid("skip").transform(rows(QA, bad, 2)).collectAsList();
        assertEquals(List.of(0, 3), skipped.stream().map(r -> r.getInt(0)).toList());
        Exception e = assertThrows(
                Exception.class,
                () -> stage.setHandleInvalid("error")
                        .transform(rows(QA, bad, 1))
                        .count());
        String msg = rootMessage(e);
        assertTrue(
                msg.contains("row 1 of partition 0")
                        && msg.contains("context is null")
                        && msg.contains("handleInvalid"),
                msg);

        List<Row> texts = List.of(RowFactory.create(0, "fine text"), RowFactory.create(1, ""));
        List<Row> zs = new ZeroShotClassificationModel()
                .setModel(nli.toString())
                .setCandidateLabels("a", "b")
                .setHandleInvalid("keep")
                .transform(spark.createDataFrame(texts, TEXTS))
                .orderBy("id")
                .collectAsList();
        assertEquals(2, zs.get(0).getList(2).size());
        assertNull(zs.get(1).getAs("labels"));
        assertNull(zs.get(1).getAs("scores"));
        assertEquals("text is empty", zs.get(1).getAs("labels_error"));
    }

    @Test
    void schemaErrorsNameTheColumnOrParamBeforeAnyJob() {
        var q = assertThrows(
                IllegalArgumentException.class,
                () -> new QuestionAnsweringModel()
                        .setModel(qa.toString())
                        .setQuestionCol("query")
                        .transformSchema(QA));
        assertTrue(q.getMessage().contains("Input column 'query' does not exist (questionCol)"), q.getMessage());
        var c = assertThrows(
                IllegalArgumentException.class,
                () -> new QuestionAnsweringModel()
                        .setModel(qa.toString())
                        .transformSchema(TEXTS.add("question", DataTypes.StringType)));
        assertTrue(c.getMessage().contains("Input column 'context' does not exist (contextCol)"), c.getMessage());
        var labels = assertThrows(
                IllegalArgumentException.class,
                () -> new ZeroShotClassificationModel().setModel(nli.toString()).transformSchema(TEXTS));
        assertTrue(labels.getMessage().contains("candidateLabels must hold at least one label"), labels.getMessage());
        var template = assertThrows(
                IllegalArgumentException.class,
                () -> new ZeroShotClassificationModel()
                        .setModel(nli.toString())
                        .setCandidateLabels("a")
                        .setHypothesisTemplate("About it.")
                        .transformSchema(TEXTS));
        assertTrue(template.getMessage().contains("has no {} for the label"), template.getMessage());
        var score = assertThrows(
                IllegalArgumentException.class,
                () -> new TextClassificationModel()
                        .setModel(sentiment.toString())
                        .transformSchema(TEXTS.add("score", DataTypes.DoubleType)));
        assertTrue(score.getMessage().contains("Output column 'score' already exists"), score.getMessage());
        var type = assertThrows(
                IllegalArgumentException.class,
                () -> new TokenClassificationModel()
                        .setModel(ner.toString())
                        .setInputCol("id")
                        .transformSchema(TEXTS));
        assertTrue(type.getMessage().contains("'id' must be string type but got int"), type.getMessage());
    }

    @Tag("smoke") // the smoke suite of every Spark line (.ci/run)
    @Test
    void pipelineModelWithTheStagesSavesAndLoadsWithWeights() throws Exception {
        List<String> texts = mixedTexts(6);
        Dataset<Row> df = frame(spark, texts, 2);
        PipelineModel model = new org.apache.spark.ml.Pipeline()
                .setStages(new PipelineStage[] {
                    new TokenClassificationModel().setModel(ner.toString()).setAggregationStrategy("first"),
                    new TextClassificationModel()
                            .setModel(sentiment.toString())
                            .setTopK(3)
                            .setFunctionToApply("sigmoid"),
                    new ZeroShotClassificationModel()
                            .setModel(nli.toString())
                            .setCandidateLabels("x", "y")
                            .setOutputCol("zs_labels")
                            .setScoresCol("zs_scores")
                })
                .fit(df);
        String path = tmp.resolve("saved").toString();
        model.write().overwrite().save(path);
        PipelineModel loaded = PipelineModel.load(path);
        TextClassificationModel cls = (TextClassificationModel) loaded.stages()[1];
        assertEquals(3, cls.getTopK());
        assertEquals("sigmoid", cls.getFunctionToApply());
        assertTrue(cls.getModel().endsWith("data"), cls.getModel());
        assertEquals("first", ((TokenClassificationModel) loaded.stages()[0]).getAggregationStrategy());
        assertArrayEquals(
                new String[] {"x", "y"}, ((ZeroShotClassificationModel) loaded.stages()[2]).getCandidateLabels());
        List<Row> before = model.transform(df).collectAsList();
        List<Row> after = loaded.transform(df).collectAsList();
        assertEquals(before.size(), after.size());
        for (int i = 0; i < before.size(); i++) assertEquals(before.get(i), after.get(i), "row " + i);
    }

    @Tag("smoke") // the smoke suite of every Spark line (.ci/run)
    @Test
    void predictScoresAParquetFileWithATaskAndItsOptions() throws Exception {
        List<Row> in = qaRows(mixedTexts(20));
        String input = tmp.resolve("qa.parquet").toString();
        rows(QA, in, 2).write().parquet(input);
        String output = tmp.resolve("qa-out").toString();
        var o = BatchScoring.Options.of("question-answering", qa.toString(), input, output)
                .withTaskOptions(new BatchScoring.TaskOptions(
                        null,
                        null,
                        null,
                        null,
                        null,
                        "question",
                        "context",
                        16,
                        5,
                        false,
                        null,
                        PipelineOptions.DEFAULT_HYPOTHESIS_TEMPLATE,
                        false,
                        null));
        BatchScoring.Result r = BatchScoring.run(spark, o);
        assertEquals(8, r.rows());
        Dataset<Row> scored = spark.read().parquet(output).orderBy("id");
        assertEquals(List.of("id", "question", "context", "answer"), List.of(scored.columns()));
        assertEquals(0, scored.filter("answer.answer is null").count());

        var noLabels = assertThrows(
                IllegalArgumentException.class,
                () -> BatchScoring.stageFor(
                        BatchScoring.Options.of("zero-shot-classification", nli.toString(), input, output)));
        assertTrue(noLabels.getMessage().contains("--candidate-labels"), noLabels.getMessage());
    }
}
