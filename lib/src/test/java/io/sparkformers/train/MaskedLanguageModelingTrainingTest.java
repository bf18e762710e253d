package io.sparkformers.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.NoGrad;
import io.sparkformers.nn.Task;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Masked-LM training on real text (the Apache License 2.0, {@link RealText}) through the one Trainer: eval loss falls,
 * perplexity is exp(eval_loss), the run is reproducible, and the saved BertForMaskedLM gives the logits Python
 * {@code transformers} computes from the same folder ({@code src/test/python/make_mlm_references.py}).
 */
class MaskedLanguageModelingTrainingTest {

    /** Set to a folder to keep the trained checkpoint there, for make_mlm_references.py. */
    static final String KEEP = "sparkformers.mlm.keep";

    static TrainingArguments args(Path out, int steps) {
        return TrainingArguments.builder(out.toString())
                .perDeviceTrainBatchSize(8)
                .learningRate(2e-3)
                .warmupSteps(5)
                .maxSteps(steps)
                .loggingSteps(20)
                .evalStrategy("no")
                .saveStrategy("no")
                .seed(42)
                .build();
    }

    static TextDataset[] licenseSplit() throws IOException {
        List<String> paragraphs = RealText.paragraphs();
        int cut = paragraphs.size() * 3 / 4;
        return new TextDataset[] {
            TextDataset.of("Apache License 2.0 paragraphs 0.." + cut, paragraphs.subList(0, cut), null, null),
            TextDataset.of(
                    "Apache License 2.0 paragraphs " + cut + ".." + paragraphs.size(),
                    paragraphs.subList(cut, paragraphs.size()),
                    null,
                    null)
        };
    }

    static Trainer.TrainOutput train(Path tiny, Path out, boolean wholeWord, int steps) throws IOException {
        TextDataset[] data = licenseSplit();
        return Trainer.builder(args(out, steps), TrainingTask.maskedLanguageModeling(tiny, 32, true, 0.15, wholeWord))
                .evalBeforeTraining(true)
                .build()
                .train(data[0], data[1]);
    }

    @Test
    void trainingOnRealTextLowersEvalLossAndSavesABertForMaskedLM(@TempDir Path tmp) throws IOException {
        Path tiny = TinyBert.create(tmp.resolve("tiny"), false);
        Trainer.TrainOutput r = train(tiny, tmp.resolve("out"), false, 60);
        double before = r.initialEval().get("eval_loss");
        double after = r.evalMetrics().get("eval_loss");
        System.out.printf(
                "mlm on the Apache License: eval_loss %.4f -> %.4f, perplexity %.1f -> %.1f, train_loss %.4f%n",
                before,
                after,
                r.initialEval().get("eval_perplexity"),
                r.evalMetrics().get("eval_perplexity"),
                r.trainingLoss());
        assertTrue(after < before - 1.0, "eval loss should fall by more than 1 nat: " + before + " -> " + after);
        assertEquals(Math.exp(after), r.evalMetrics().get("eval_perplexity"), 1e-9 * Math.exp(after));
        assertEquals(
                "BertForMaskedLM",
                HfCheckpoint.open(r.outputDir())
                        .config()
                        .path("architectures")
                        .path(0)
                        .asText());
        String keep = System.getProperty(KEEP);
        if (keep != null) copyFolder(r.outputDir(), Path.of(keep));
        checkAgainstPythonReference(r.outputDir());
    }

    @Test
    void sameSeedGivesTheSameLosses(@TempDir Path tmp) throws IOException {
        Path tiny = TinyBert.create(tmp.resolve("tiny"), false);
        Trainer.TrainOutput a = train(tiny, tmp.resolve("a"), true, 6);
        Trainer.TrainOutput b = train(tiny, tmp.resolve("b"), true, 6);
        assertEquals(a.trainingLoss(), b.trainingLoss());
        assertEquals(a.evalMetrics().get("eval_loss"), b.evalMetrics().get("eval_loss"));
        assertTrue(a.evalMetrics().get("eval_loss") < a.initialEval().get("eval_loss"));
    }

    @Test
    void groupTextsRefusesTooLittleText(@TempDir Path tmp) throws IOException {
        Path tiny = TinyBert.create(tmp.resolve("tiny"), false);
        TextDataset few = TextDataset.of("two words", List.of("two words"), null, null);
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class,
                () -> Trainer.builder(
                                args(tmp.resolve("o"), 1),
                                TrainingTask.maskedLanguageModeling(tiny, 32, true, 0.15, false))
                        .build()
                        .train(few, null));
        assertTrue(e.getMessage().contains("fewer than one block of max_seq_length 32"), e.getMessage());
    }

    /** Logits of the saved checkpoint for the reference inputs vs transformers' (when the reference file exists). */
    private static void checkAgainstPythonReference(Path checkpoint) throws IOException {
        Path refFile = Path.of("src/test/resources/mlm/references.json");
        if (!Files.exists(refFile)) return;
        JsonNode ref = Json.MAPPER.readTree(refFile.toFile());
        JsonNode inputs = ref.get("input_ids");
        int b = inputs.size();
        int t = inputs.get(0).size();
        int shown = ref.get("logits_shown").asInt();
        long[] ids = new long[b * t];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < t; j++) ids[i * t + j] = inputs.get(i).get(j).asLong();
        try (HfModel m = HfModel.fromPretrained(checkpoint, Task.MASKED_LM);
                NDManager scope = m.manager().newSubManager();
                NoGrad g = NoGrad.enter()) {
            Shape s = new Shape(b, t);
            NDList in = new NDList(
                    scope.create(ids, s),
                    scope.ones(s, ai.djl.ndarray.types.DataType.INT64),
                    scope.zeros(s, ai.djl.ndarray.types.DataType.INT64));
            NDArray logits = m.block()
                    .forward(new ParameterStore(scope, false), in, false)
                    .head(); // (B, T, V)
            float[] head = logits.get(":, :, :" + shown).toFloatArray();
            float[] lse = logits.logSoftmax(-1).neg().add(logits).toFloatArray(); // logits - log_softmax = logsumexp
            double maxDiff = 0;
            JsonNode refHead = ref.get("logits_head");
            JsonNode refLse = ref.get("logsumexp");
            for (int i = 0; i < b; i++) {
                for (int j = 0; j < t; j++) {
                    for (int v = 0; v < shown; v++) {
                        double d = head[(i * t + j) * shown + v]
                                - refHead.get(i).get(j).get(v).asDouble();
                        maxDiff = Math.max(maxDiff, Math.abs(d));
                    }
                    long vocab = logits.getShape().get(2);
                    double d = lse[(int) ((i * t + j) * vocab)]
                            - refLse.get(i).get(j).asDouble();
                    maxDiff = Math.max(maxDiff, Math.abs(d));
                }
            }
            System.out.printf(
                    "mlm logits vs transformers %s: max |diff| = %.3g%n",
                    ref.get("transformers").asText(), maxDiff);
            assertTrue(maxDiff <= 1e-4, "max |diff| = " + maxDiff);
        }
    }

    private static void copyFolder(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path f : files.toList()) {
                if (Files.isRegularFile(f)) {
                    Files.copy(f, to.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }
}
