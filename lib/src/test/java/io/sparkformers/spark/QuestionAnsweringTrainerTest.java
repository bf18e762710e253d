package io.sparkformers.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkformers.metrics.SquadState;
import io.sparkformers.train.RealText;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
 * {@link QuestionAnsweringTrainer} in local[2]: a 2-replica fit on the Apache License's definition questions
 * ({@link RealText#definitionQuestions}), SQuAD EM/F1 rising, and the fitted {@link QuestionAnsweringModel} answering
 * them. The tiny model starts random, so it learns these questions by heart: the evaluation is on the training rows.
 */
class QuestionAnsweringTrainerTest {
    static SparkSession spark;
    static Path tiny;

    @TempDir
    static Path shared;

    @TempDir
    Path tmp;

    static final StructType SCHEMA = new StructType()
            .add("question", DataTypes.StringType, false)
            .add("context", DataTypes.StringType, false)
            .add("answer", DataTypes.StringType, true)
            .add("isEval", DataTypes.BooleanType, false);

    @BeforeAll
    static void start() throws Exception {
        spark = TrainingFixtures.trainingSession("QuestionAnsweringTrainerTest");
        tiny = TrainingFixtures.tinyBertWithoutDropout(shared.resolve("tiny"));
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
    }

    /** The definitions as training rows, and again as evaluation rows (isEval true). */
    static Dataset<Row> definitions() throws Exception {
        List<Row> rows = new ArrayList<>();
        for (boolean eval : new boolean[] {false, true}) {
            for (String[] d : RealText.definitionQuestions()) rows.add(RowFactory.create(d[0], d[1], d[2], eval));
        }
        return spark.createDataFrame(rows, SCHEMA);
    }

    private QuestionAnsweringTrainer trainer(String out, int steps) {
        return new QuestionAnsweringTrainer()
                .setModel(tiny.toString())
                .setOutputDir(out)
                .setNumWorkers(2)
                .setPerDeviceTrainBatchSize(2)
                .setMaxSteps(steps)
                .setLearningRate(3e-3)
                .setWarmupSteps(5)
                .setMaxLength(64)
                .setDocStride(16)
                .setValidationIndicatorCol("isEval")
                .setSaveStrategy("no")
                .setLoggingSteps(20);
    }

    /** EM and F1 (percent) of the stage's answers against the gold answers. */
    private static double[] exactMatchAndF1(QuestionAnsweringModel model, Dataset<Row> rows) {
        List<Row> out = model.transform(rows.filter("isEval"))
                .select("answer", "prediction.answer")
                .collectAsList();
        double em = 0;
        double f1 = 0;
        for (Row r : out) {
            em += SquadState.exactMatch(r.getString(1), r.getString(0)) ? 1 : 0;
            f1 += SquadState.f1(r.getString(1), r.getString(0));
        }
        return new double[] {100 * em / out.size(), 100 * f1 / out.size()};
    }

    @Test
    void twoReplicaFitRaisesExactMatchAndF1AndTheModelStageAnswers() throws Exception {
        Dataset<Row> data = definitions();
        QuestionAnsweringTrainer.FitResult once =
                trainer(tmp.resolve("one").toString(), 1).fitWithSummary(data);
        QuestionAnsweringTrainer.FitResult r =
                trainer(tmp.resolve("out").toString(), 60).fitWithSummary(data);
        double emBefore = once.summary().evalMetrics().get("eval_exact_match");
        double f1Before = once.summary().evalMetrics().get("eval_f1");
        double em = r.summary().evalMetrics().get("eval_exact_match");
        double f1 = r.summary().evalMetrics().get("eval_f1");
        System.out.printf(
                "qa estimator, 2 replicas: EM %.1f -> %.1f, F1 %.1f -> %.1f (after 1 and 60 steps), eval_loss %.4f%n",
                emBefore, em, f1Before, f1, r.summary().evalMetrics().get("eval_loss"));
        assertEquals(2, r.summary().workers().size());
        assertTrue(f1 > f1Before + 20, "F1 should rise by 20 points: " + f1Before + " -> " + f1);

        QuestionAnsweringModel model = r.model().setOutputCol("prediction");
        assertEquals(16, model.getOrDefault(model.docStride()));
        assertEquals(r.summary().outputDir(), model.getOrDefault(model.model()));
        double[] scored = exactMatchAndF1(model, data);
        System.out.printf("qa model stage on the fitted checkpoint: EM %.1f, F1 %.1f%n", scored[0], scored[1]);
        assertTrue(scored[1] > f1Before + 20, "the stage's F1 " + scored[1] + " vs " + f1Before + " before");
    }

    @Test
    void aNonStringAnswerColumnFailsBeforeAnyJob() {
        StructType bad = new StructType()
                .add("question", DataTypes.StringType)
                .add("context", DataTypes.StringType)
                .add("answer", DataTypes.IntegerType);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> trainer(tmp.resolve("x").toString(), 1).transformSchema(bad));
        assertTrue(e.getMessage().contains("answerCol 'answer' must be string but got int"), e.getMessage());
    }

    @Test
    void aLoraRequestIsRefusedInsteadOfTrainingEveryWeight() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> trainer(tmp.resolve("lora").toString(), 1)
                        .setLoraR(4)
                        .transformSchema(definitions().schema()));
        assertTrue(e.getMessage().contains("loraR 4 is not supported for question answering"), e.getMessage());
    }

    @Test
    void paramsAndRoundTrip() throws Exception {
        QuestionAnsweringTrainer t = trainer(tmp.resolve("p").toString(), 1);
        QuestionAnsweringTrainer back = (QuestionAnsweringTrainer) roundTrip(t);
        assertEquals(16, back.getOrDefault(back.docStride()));
        assertEquals(30, back.getOrDefault(back.maxAnswerLen()));
        assertEquals("answer", back.getOrDefault(back.answerCol()));
    }

    private Object roundTrip(QuestionAnsweringTrainer t) throws Exception {
        String dir = tmp.resolve("saved").toString();
        t.write().overwrite().save(dir);
        return QuestionAnsweringTrainer.load(dir);
    }
}
