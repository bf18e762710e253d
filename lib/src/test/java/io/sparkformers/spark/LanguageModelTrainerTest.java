package io.sparkformers.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkformers.safetensors.Tensor;
import io.sparkformers.train.RealText;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
 * {@link MaskedLanguageModelTrainer} and {@link CausalLanguageModelTrainer} in local[2] on the Apache License's
 * paragraphs ({@link RealText#paragraphs}): 2 replicas with per-device batch 2 end with the weights of 1 replica with
 * batch 2 and 2 gradient-accumulation steps (the same micro-batches, masks seeded per example, dropout 0: DDP's
 * contract), the weights moved from the start, and the fitted stage ({@link FillMasker}, {@link TextGenerator}) scores
 * with the saved checkpoint. Not 1 replica with batch 4: the LM losses are token means per micro-batch (HF without
 * {@code num_items_in_batch}), so a batch of 4 weighs its tokens differently from two micro-batches of 2.
 */
class LanguageModelTrainerTest {
    static SparkSession spark;
    static Path bert;
    static Path gpt2;

    @TempDir
    static Path shared;

    @TempDir
    Path tmp;

    static final StructType SCHEMA =
            new StructType().add("text", DataTypes.StringType, true).add("isEval", DataTypes.BooleanType, false);

    @BeforeAll
    static void start() throws Exception {
        spark = TrainingFixtures.trainingSession("LanguageModelTrainerTest");
        bert = TrainingFixtures.tinyBertWithoutDropout(shared.resolve("bert"));
        gpt2 = TrainingFixtures.tinyGpt2WithoutDropout(shared.resolve("gpt2"));
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
    }

    /** The paragraphs as training rows (one null row, skipped), the first 4 again as evaluation rows. */
    static Dataset<Row> paragraphs() throws Exception {
        List<String> p = RealText.paragraphs();
        List<Row> rows = new ArrayList<>();
        for (String s : p) rows.add(RowFactory.create(s, false));
        rows.add(RowFactory.create(null, false));
        for (int i = 0; i < 4; i++) rows.add(RowFactory.create(p.get(i), true));
        return TrainingFixtures.frame(spark, rows, SCHEMA, 3);
    }

    private static <S extends LanguageModelingEstimator<S, ?>> S common(S t, Path model, String out, int workers) {
        return TrainingFixtures.languageModel(t, model, out, workers)
                .setLearningRate(1e-3)
                .setMaxLength(48)
                .setValidationIndicatorCol("isEval")
                .setLoggingSteps(1);
    }

    private static void assertSameWeights(String what, String one, String two, Path start) throws Exception {
        Map<String, Tensor> w1 = TrainingFixtures.weights(one);
        Map<String, Tensor> w2 = TrainingFixtures.weights(two);
        double diff = TrainingFixtures.maxAbsDiff(w1, w2);
        Map<String, Tensor> w0 = withoutBasePrefix(TrainingFixtures.weights(start.toString()));
        Map<String, Tensor> shared1 = withoutBasePrefix(w1);
        w0.keySet().retainAll(shared1.keySet()); // a base checkpoint gets a new LM head
        shared1.keySet().retainAll(w0.keySet());
        assertTrue(w0.size() > 10, what + ": the fitted checkpoint shares no weights with the start");
        double moved = TrainingFixtures.maxAbsDiff(w0, shared1);
        System.out.printf("%s: max |1 replica - 2 replicas| = %.3g, max |moved| = %.3g%n", what, diff, moved);
        assertTrue(diff <= 1e-5, what + ": 1 replica (batch 4) vs 2 replicas (batch 2): max |diff| " + diff);
        assertTrue(moved > 1e-4, what + ": training did not move the weights: " + moved);
    }

    /** Weight names without the base-model prefix ({@code bert.}) a head model adds to a base checkpoint's names. */
    private static Map<String, Tensor> withoutBasePrefix(Map<String, Tensor> w) {
        Map<String, Tensor> out = new java.util.HashMap<>();
        w.forEach((k, v) -> out.put(k.startsWith("bert.") ? k.substring(5) : k, v));
        return out;
    }

    @Test
    void maskedLmTwoReplicasMatchOneAndTheFillMaskerLoadsTheCheckpoint() throws Exception {
        Dataset<Row> data = paragraphs();
        var one = common(
                        new MaskedLanguageModelTrainer(),
                        bert,
                        tmp.resolve("one").toString(),
                        1)
                .fitWithSummary(data);
        var two = common(
                        new MaskedLanguageModelTrainer(),
                        bert,
                        tmp.resolve("two").toString(),
                        2)
                .fitWithSummary(data);
        assertEquals(2, two.summary().workers().size());
        assertSameWeights("masked LM", one.summary().outputDir(), two.summary().outputDir(), bert);

        FillMasker stage = two.model().setOutputCol("candidates");
        assertEquals(two.summary().outputDir(), stage.getOrDefault(stage.model()));
        List<Row> out = stage.transform(spark.createDataFrame(
                        List.of(RowFactory.create("the licensor shall [MASK] the work.", false)), SCHEMA))
                .select("candidates")
                .collectAsList();
        assertEquals(5, out.get(0).getList(0).size(), "topK 5 candidates for the one [MASK]");
    }

    @Test
    void causalLmTwoReplicasMatchOneAndTheTextGeneratorLoadsTheCheckpoint() throws Exception {
        Dataset<Row> data = paragraphs();
        var one = common(
                        new CausalLanguageModelTrainer(),
                        gpt2,
                        tmp.resolve("one").toString(),
                        1)
                .fitWithSummary(data);
        var two = common(
                        new CausalLanguageModelTrainer(),
                        gpt2,
                        tmp.resolve("two").toString(),
                        2)
                .fitWithSummary(data);
        assertEquals(2, two.summary().workers().size());
        assertSameWeights("causal LM", one.summary().outputDir(), two.summary().outputDir(), gpt2);

        TextGenerator stage = two.model().setOutputCol("generated").setMaxNewTokens(4);
        List<Row> out = stage.transform(
                        spark.createDataFrame(List.of(RowFactory.create("Licensor shall", false)), SCHEMA))
                .select("generated")
                .collectAsList();
        assertFalse(out.get(0).isNullAt(0), "the stage generated from the fitted checkpoint");
    }

    @Test
    void groupTextsWithSeveralReplicasPassesTheSchemaChecks() {
        // each replica packs its own rows (GroupTextsReplicasTest trains so); no longer refused before the job
        StructType out = common(
                        new CausalLanguageModelTrainer(), gpt2, tmp.resolve("g").toString(), 2)
                .setGroupTexts(true)
                .transformSchema(SCHEMA);
        assertEquals(SCHEMA, out);
    }

    @Test
    void aNonStringTextColumnFailsBeforeAnyJob() {
        StructType bad = new StructType().add("text", DataTypes.IntegerType);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> common(
                                new MaskedLanguageModelTrainer(),
                                bert,
                                tmp.resolve("x").toString(),
                                1)
                        .transformSchema(bad));
        assertTrue(e.getMessage().contains("inputCol 'text' must be string but got int"), e.getMessage());
    }

    @Test
    void paramsRoundTrip() throws Exception {
        MaskedLanguageModelTrainer t = common(
                        new MaskedLanguageModelTrainer(), bert, tmp.resolve("p").toString(), 2)
                .setMlmProbability(0.2)
                .setWholeWordMask(true);
        String dir = tmp.resolve("saved").toString();
        t.write().overwrite().save(dir);
        MaskedLanguageModelTrainer back = MaskedLanguageModelTrainer.load(dir);
        assertEquals(0.2, back.getOrDefault(back.mlmProbability()));
        assertEquals(true, back.getOrDefault(back.wholeWordMask()));
        assertEquals(false, back.getOrDefault(back.groupTexts()));
        assertEquals(2, back.getOrDefault(back.numWorkers()));
    }
}
