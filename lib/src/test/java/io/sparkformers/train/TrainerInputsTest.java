package io.sparkformers.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.sparkformers.nn.Task;
import io.sparkformers.safetensors.SafetensorsCheckpoint;
import io.sparkformers.safetensors.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input fails before the first step, naming the row or key; transfer modes freeze what they say. */
class TrainerInputsTest {

    @TempDir
    static Path shared;

    static Path tiny;

    @TempDir
    Path tmp;

    @BeforeAll
    static void tinyModel() throws IOException {
        tiny = TinyBert.create(shared.resolve("tiny"));
    }

    private IllegalArgumentException failsBeforeTraining(TextDataset train, TextDataset eval) {
        Path out = tmp.resolve("out");
        TrainingArguments a =
                TrainingArguments.builder(out.toString()).maxSteps(2).build();
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> Trainer.builder(a, tiny).labels(null).build().train(train, eval));
        assertFalse(Files.exists(out.resolve("checkpoint-1")), "nothing trained");
        return e;
    }

    private static TextDataset rows(String... textLabel) {
        List<TextDataset.Row> r = new ArrayList<>();
        for (int i = 0; i < textLabel.length; i += 2) {
            r.add(new TextDataset.Row("r" + i / 2, textLabel[i], null, textLabel[i + 1]));
        }
        return new TextDataset("test rows", r);
    }

    @Test
    void imageRowsForATextTaskAreRefusedNamingTheTask() {
        ImageDataset images = TinyImages.dataset(2, 3, 1);
        TrainingArguments a = TrainingArguments.builder(tmp.resolve("img").toString())
                .maxSteps(2)
                .build();
        for (var task : List.of(
                TrainingTask.textClassification(
                        tiny,
                        Task.SEQUENCE_CLASSIFICATION,
                        DataCollatorWithPadding.LabelKind.SINGLE_LABEL,
                        List.of("neg", "pos"),
                        16),
                TrainingTask.maskedLanguageModeling(tiny, 16, false, 0.15, false))) {
            var e = assertThrows(
                    IllegalArgumentException.class,
                    () -> Trainer.builder(a, task).build().train(images, null));
            assertTrue(
                    e.getMessage()
                            .matches("(text classification|masked-LM training) trains on a TextDataset, not on \\w+ "
                                    + "\\(tiny patterns \\(seed 1\\)\\)"),
                    e.getMessage());
        }
    }

    @Test
    void nullLabelNamesTheRow() {
        var e = failsBeforeTraining(rows("good", "pos", "bad", null, "awful", "neg"), null);
        assertTrue(e.getMessage().contains("row r1: the label is null"), e.getMessage());
    }

    @Test
    void unseenEvalLabelNamesTheRowAndTheLabels() {
        TrainingArguments a = TrainingArguments.builder(tmp.resolve("o").toString())
                .maxSteps(2)
                .evalStrategy("steps")
                .evalSteps(1.0)
                .build();
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> Trainer.builder(a, tiny)
                        .build()
                        .train(rows("good", "pos", "bad", "neg"), rows("meh", "neutral")));
        assertTrue(
                e.getMessage().contains("row r0: label 'neutral' is not one of the 2 labels [neg, pos]"),
                e.getMessage());
    }

    @Test
    void aSingleLabelValueIsRefusedWithTheValueCounts() {
        var e = failsBeforeTraining(rows("good", "pos", "fine", "pos", "ok", null), null);
        assertEquals(
                "single-label classification needs at least 2 classes, but the label column of the training dataset "
                        + "(test rows) holds a single value (value counts: {pos=2}): add training rows of the other classes "
                        + "(check the data's path, filter and limit, and the label column)",
                e.getMessage());
        TrainingArguments a = TrainingArguments.builder(tmp.resolve("given").toString())
                .maxSteps(2)
                .build();
        var given = assertThrows(
                IllegalArgumentException.class,
                () -> Trainer.builder(a, tiny).labels(List.of("pos")).build().train(rows("good", "pos"), null));
        assertTrue(
                given.getMessage()
                        .startsWith("single-label classification needs at least 2 classes, but the "
                                + "labels given are only [pos]"),
                given.getMessage());
    }

    @Test
    void emptyDatasetIsAnError() {
        var e = failsBeforeTraining(new TextDataset("nothing", List.of()), null);
        assertTrue(e.getMessage().contains("training dataset (nothing) is empty"), e.getMessage());
    }

    @Test
    void missingTextNamesTheRowAndTheColumn() {
        var e = failsBeforeTraining(rows("good", "pos", null, "neg"), null);
        assertTrue(e.getMessage().contains("row r1: the text is null (is the text column right?)"), e.getMessage());
    }

    @Test
    void badArgumentsFailAtConstruction() {
        var lr = assertThrows(
                IllegalArgumentException.class,
                () -> TrainingArguments.builder("o").learningRate(0).build());
        assertTrue(lr.getMessage().contains("learning_rate must be > 0 but was 0.0"), lr.getMessage());
        var batch = assertThrows(
                IllegalArgumentException.class,
                () -> TrainingArguments.builder("o").perDeviceTrainBatchSize(0).build());
        assertTrue(
                batch.getMessage().contains("per_device_train_batch_size must be > 0 but was 0"), batch.getMessage());
        var key = assertThrows(
                IllegalArgumentException.class,
                () -> TrainingArguments.fromMap(Map.of("output_dir", "o", "learning_rte", 1e-4)));
        assertTrue(key.getMessage().contains("did you mean learning_rate?"), key.getMessage());
    }

    @Test
    void fp16OnCpuIsAClearError() {
        TrainingArguments a = TrainingArguments.builder(tmp.resolve("o").toString())
                .fp16(true)
                .build();
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> Trainer.builder(a, tiny).build().train(TinyBert.sentiment(8, 0), null));
        assertTrue(e.getMessage().contains("fp16 needs a GPU"), e.getMessage());
    }

    @Test
    void nonEmptyOutputDirNeedsOverwriteOrResume() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("used"));
        Files.writeString(out.resolve("x"), "x");
        TrainingArguments a =
                TrainingArguments.builder(out.toString()).maxSteps(1).build();
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> Trainer.builder(a, tiny).build().train(TinyBert.sentiment(8, 0), null));
        assertTrue(e.getMessage().contains("set overwrite_output_dir true"), e.getMessage());
    }

    private static Map<String, Tensor> weights(Path f) throws IOException {
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(f)) {
            return c.readAll();
        }
    }

    @Test
    void featureExtractionTrainsOnlyTheHeadAndNewWeights() throws IOException {
        Path out = tmp.resolve("fe");
        TrainingArguments a = TrainingArguments.builder(out.toString())
                .maxSteps(3)
                .perDeviceTrainBatchSize(4)
                .learningRate(1e-2)
                .saveSteps(3)
                .build();
        Trainer.builder(a, tiny).mode(TransferMode.featureExtraction()).build().train(TinyBert.sentiment(12, 0), null);
        Map<String, Tensor> before = weights(tiny.resolve("model.safetensors"));
        Map<String, Tensor> after = weights(out.resolve("model.safetensors"));
        for (Map.Entry<String, Tensor> e : before.entrySet()) {
            assertEquals(e.getValue(), after.get("bert." + e.getKey()), "frozen: " + e.getKey());
        }
        Map<String, Tensor> opt = weights(out.resolve("checkpoint-3/optimizer.safetensors"));
        assertEquals(
                new java.util.TreeSet<>(List.of(
                        "bert.pooler.dense.bias", "bert.pooler.dense.weight", "classifier.bias", "classifier.weight")),
                new java.util.TreeSet<>(opt.keySet().stream()
                        .map(k -> k.substring(0, k.lastIndexOf('.')))
                        .toList()));
    }

    @Test
    void partialTrainsTheLastLayerAndTheHead() throws IOException {
        Path out = tmp.resolve("partial");
        TrainingArguments a = TrainingArguments.builder(out.toString())
                .maxSteps(2)
                .perDeviceTrainBatchSize(4)
                .learningRate(1e-2)
                .saveSteps(2)
                .build();
        Trainer.builder(a, tiny)
                .mode(TransferMode.partial(1, List.of("embeddings\\.LayerNorm")).withHeadLrMultiplier(10))
                .build()
                .train(TinyBert.sentiment(12, 0), null);
        Map<String, Tensor> before = weights(tiny.resolve("model.safetensors"));
        Map<String, Tensor> after = weights(out.resolve("model.safetensors"));
        for (Map.Entry<String, Tensor> e : before.entrySet()) {
            boolean trains =
                    e.getKey().startsWith("encoder.layer.1.") || e.getKey().startsWith("embeddings.LayerNorm");
            assertEquals(!trains, e.getValue().equals(after.get("bert." + e.getKey())), e.getKey());
        }
    }

    @Test
    void labelSmoothingMatchesHfFormula() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] logits = {1f, 2f, 0.5f, -1f, 0f, 3f};
            NDArray l = m.create(logits, new ai.djl.ndarray.types.Shape(2, 3));
            NDArray y = m.create(new long[] {1, -100});
            double eps = 0.1;
            double lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(0.5));
            double[] nlp = {lse - 1, lse - 2, lse - 0.5};
            double expected = (1 - eps) * nlp[1] + eps * Arrays.stream(nlp).sum() / 3;
            assertEquals(expected, LabelSmoother.loss(l, y, eps).getFloat(), 1e-6);
        }
    }
}
