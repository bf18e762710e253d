package io.sparkformers.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkformers.safetensors.Tensor;
import io.sparkformers.train.RealText;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.param.ParamMap;
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
 * {@link Seq2SeqFineTuner} in local[2] on the tiny seeded BART of the parity tests (dropout set to 0), the Apache
 * License's paragraphs as sources and their first four words as targets ({@link RealText}): 2 replicas with per-device
 * batch 2 end with the weights of 1 replica with batch 2 and 2 gradient-accumulation steps (DDP's contract: the loss
 * is each micro-batch's token mean, as in HF without {@code num_items_in_batch}), the evaluation (loss and the
 * generated texts' ROUGE/BLEU, merged across replicas) agrees, the weights moved, and the fitted {@link Summarizer}
 * summarises with the saved checkpoint.
 */
class Seq2SeqFineTunerTest {
    static SparkSession spark;
    static Path bart;

    @TempDir
    static Path shared;

    @TempDir
    Path tmp;

    static final StructType SCHEMA = new StructType()
            .add("document", DataTypes.StringType, true)
            .add("headline", DataTypes.StringType, true)
            .add("isEval", DataTypes.BooleanType, false);

    @BeforeAll
    static void start() throws Exception {
        System.setProperty("ai.djl.offline", "true");
        spark = TrainingFixtures.trainingSession("Seq2SeqFineTunerTest");
        bart = TrainingFixtures.tinyBartWithoutDropout(shared.resolve("bart"));
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
    }

    /** Paragraph → its first four words; one row without a target (skipped); the last 4 paragraphs for evaluation. */
    static Dataset<Row> headlines() throws Exception {
        List<String> p = RealText.paragraphs();
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < p.size(); i++) {
            String[] w = p.get(i).split(" ");
            String headline = String.join(" ", Arrays.copyOf(w, Math.min(4, w.length)));
            rows.add(RowFactory.create(p.get(i), headline, i >= p.size() - 4));
        }
        rows.add(RowFactory.create("a source without a target", null, false));
        return TrainingFixtures.frame(spark, rows, SCHEMA, 3);
    }

    private static Seq2SeqFineTuner<Summarizer> tuner(String out, int workers) {
        return Seq2SeqFineTuner.summarization()
                .setModel(bart.toString())
                .setSourceCol("document")
                .setTargetCol("headline")
                .setOutputDir(out)
                .setNumWorkers(workers)
                .setPerDeviceTrainBatchSize(2)
                .setPerDeviceEvalBatchSize(2)
                .setGradientAccumulationSteps(2 / workers)
                .setMaxSteps(3)
                .setLearningRate(2e-3)
                .setMaxLength(48)
                .setMaxTargetLength(12)
                .setPredictWithGenerate(true)
                .setGenerationMaxLength(8)
                .setValidationIndicatorCol("isEval")
                .setEvalStrategy("steps")
                .setEvalSteps(3)
                .setSaveStrategy("no")
                .setLoggingSteps(1);
    }

    @Test
    void twoReplicasMatchOneWithAccumulationAndTheSummarizerLoadsTheCheckpoint() throws Exception {
        Dataset<Row> data = headlines();
        var one = tuner(tmp.resolve("one").toString(), 1).fitWithSummary(data);
        var two = tuner(tmp.resolve("two").toString(), 2).fitWithSummary(data);
        assertEquals(2, two.summary().workers().size());

        Map<String, Tensor> w1 = TrainingFixtures.weights(one.summary().outputDir());
        Map<String, Tensor> w2 = TrainingFixtures.weights(two.summary().outputDir());
        Map<String, Tensor> w0 = TrainingFixtures.weights(bart.toString());
        double diff = TrainingFixtures.maxAbsDiff(w1, w2);
        double moved = TrainingFixtures.maxAbsDiff(w0, w2);
        System.out.printf("seq2seq BART: max |1 replica - 2 replicas| = %.3g, max |moved| = %.3g%n", diff, moved);
        assertEquals(w0.keySet(), w2.keySet(), "the fitted checkpoint keeps BART's weight names");
        assertTrue(diff <= 1e-5, "1 replica (batch 2 x 2 accumulation) vs 2 replicas (batch 2): max |diff| " + diff);
        assertTrue(moved > 1e-4, "training did not move the weights: " + moved);

        Map<String, Double> e1 = one.summary().evalMetrics();
        Map<String, Double> e2 = two.summary().evalMetrics();
        System.out.println("seq2seq BART eval, 1 replica: " + e1 + "\n2 replicas: " + e2);
        for (String k : List.of("eval_rouge1", "eval_rouge2", "eval_rougeL", "eval_rougeLsum", "eval_bleu")) {
            assertTrue(e2.containsKey(k), k + " missing from " + e2);
            assertEquals(e1.get(k), e2.get(k), 1e-9, k + ": the replicas' generation states merge exactly");
        }
        assertEquals(e1.get("eval_loss"), e2.get("eval_loss"), 1e-5, "eval_loss over the 4 evaluation rows");

        Summarizer stage =
                two.model().setOutputCol("summary").setMaxNewTokens(6).setNumBeams(1);
        assertEquals(two.summary().outputDir(), stage.getOrDefault(stage.model()));
        assertEquals("document", stage.getInputCol());
        List<Row> out = stage.transform(data.limit(2)).select("summary").collectAsList();
        assertFalse(out.get(0).isNullAt(0), "the Summarizer generated from the fitted checkpoint");
    }

    @Test
    void theFittedStageCarriesTheSourcePrefixItTrainedWith() throws Exception {
        Dataset<Row> data = headlines();
        Summarizer stage = tuner(tmp.resolve("prefix").toString(), 1)
                .setSourcePrefix("summarize: ")
                .setMaxSteps(1)
                .setPredictWithGenerate(false)
                .fit(data)
                .setOutputCol("summary")
                .setMaxNewTokens(6)
                .setNumBeams(1);
        assertEquals("summarize: ", stage.getSourcePrefix());

        // the fitted stage reads "summarize: " + text, as training did: what the prefix-less stage makes of the
        // prefixed texts, and not what it makes of the bare ones
        Summarizer bare = stage.copy(new ParamMap());
        bare.clear(bare.sourcePrefix());
        assertNull(bare.getSourcePrefix());
        Dataset<Row> rows = data.limit(4);
        Dataset<Row> prefixed = rows.withColumn("document", concat(lit("summarize: "), col("document")));
        List<Row> carried = stage.transform(rows).select("summary").collectAsList();
        assertEquals(bare.transform(prefixed).select("summary").collectAsList(), carried);
        assertNotEquals(bare.transform(rows).select("summary").collectAsList(), carried, "the prefix changed nothing");

        stage.write().overwrite().save(tmp.resolve("stage").toString());
        assertEquals(
                "summarize: ", Summarizer.load(tmp.resolve("stage").toString()).getSourcePrefix());
    }

    @Test
    void theTaskPicksTheFittedStage() {
        Seq2SeqFineTuner<Translator> translation = Seq2SeqFineTuner.translation();
        assertEquals("translation", translation.getOrDefault(translation.task()));
        Seq2SeqFineTuner<?> t = new Seq2SeqFineTuner<>();
        assertEquals("text2text-generation", t.getOrDefault(t.task()));
        assertThrows(IllegalArgumentException.class, () -> t.setTask("question-answering"));
    }

    @Test
    void aNonStringTargetColumnFailsBeforeAnyJobNamingIt() {
        StructType bad = new StructType()
                .add("document", DataTypes.StringType)
                .add("headline", DataTypes.IntegerType)
                .add("isEval", DataTypes.BooleanType);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> tuner(tmp.resolve("x").toString(), 1).transformSchema(bad));
        assertTrue(e.getMessage().contains("targetCol 'headline' must be string but got int"), e.getMessage());
    }

    @Test
    void loraAndFeatureExtractionAreRefusedBeforeAnyJob() {
        StructType ok = SCHEMA;
        var lora = assertThrows(
                IllegalArgumentException.class,
                () -> tuner(tmp.resolve("l").toString(), 1).setLoraR(4).transformSchema(ok));
        assertTrue(lora.getMessage().contains("set loraR 0"), lora.getMessage());
        var frozen = assertThrows(
                IllegalArgumentException.class,
                () -> tuner(tmp.resolve("f").toString(), 1)
                        .setMode("feature_extraction")
                        .transformSchema(ok));
        assertTrue(frozen.getMessage().contains("set mode fine_tune or partial"), frozen.getMessage());
    }

    @Test
    void paramsFollowTheStageContract() throws Exception {
        Seq2SeqFineTuner<Translator> t = Seq2SeqFineTuner.translation()
                .setSourceCol("en")
                .setTargetCol("de")
                .setSourcePrefix("translate English to German: ");
        assertTrue(t.explainParams().contains("maxTargetLength"), "every Param has a doc");
        t.write().overwrite().save(tmp.resolve("tuner").toString());
        Seq2SeqFineTuner<?> back = Seq2SeqFineTuner.load(tmp.resolve("tuner").toString());
        assertEquals("translation", back.getOrDefault(back.task()));
        assertEquals("translate English to German: ", back.getOrDefault(back.sourcePrefix()));
        assertEquals("de", back.getOrDefault(back.targetCol()));
    }
}
