package io.sparkformers.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.NoGrad;
import io.sparkformers.nn.Task;
import io.sparkformers.pipeline.Pipeline;
import io.sparkformers.pipeline.PipelineInput;
import io.sparkformers.pipeline.PipelineOptions;
import io.sparkformers.pipeline.Pipelines;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Causal-LM training through the one Trainer: a tiny GPT-2 trained from scratch on real text (the Apache License 2.0,
 * {@link RealText}) with the byte-level BPE tokenizer of the generation tests; eval loss and perplexity fall, greedy
 * generation from the saved folder gives text, and the saved GPT2LMHeadModel gives the logits Python
 * {@code transformers} computes from the same folder ({@code src/test/python/make_clm_references.py}). Also the label
 * shift, padding and the prompt mask of instruction pairs.
 */
class CausalLanguageModelingTrainingTest {

    static {
        System.setProperty("ai.djl.offline", "true");
    }

    /** Set to a folder to keep the trained checkpoint there, for make_clm_references.py. */
    static final String KEEP = "sparkformers.clm.keep";

    static final Path TOKENIZER = Path.of("src/test/resources/generation/gpt2-tiny");

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

    /**
     * The tiny GPT-2's config (2 layers, 64 wide, 4 heads, byte-level vocabulary of 512, dropout 0.1) with GPT-2's
     * initializer_range 0.02 (the generation tests' checkpoint uses 0.2 for varied logits).
     */
    static ObjectNode tinyGpt2Config() throws IOException {
        return Json.readObject(TOKENIZER.resolve("config.json")).put("initializer_range", 0.02);
    }

    static Trainer.TrainOutput trainFromScratch(Path out, int steps) throws IOException {
        TextDataset[] data = MaskedLanguageModelingTrainingTest.licenseSplit();
        return Trainer.builder(
                        args(out, steps),
                        TrainingTask.causalLanguageModelingFromScratch(tinyGpt2Config(), TOKENIZER, 64, true))
                .evalBeforeTraining(true)
                .build()
                .train(data[0], data[1]);
    }

    @Test
    void tinyGpt2FromScratchOnRealTextLowersPerplexityAndGenerates(@TempDir Path tmp) throws Exception {
        Trainer.TrainOutput r = trainFromScratch(tmp.resolve("out"), 80);
        double before = r.initialEval().get("eval_loss");
        double after = r.evalMetrics().get("eval_loss");
        System.out.printf(
                "clm from scratch on the Apache License: eval_loss %.4f -> %.4f, perplexity %.1f -> %.1f, "
                        + "train_loss %.4f%n",
                before,
                after,
                r.initialEval().get("eval_perplexity"),
                r.evalMetrics().get("eval_perplexity"),
                r.trainingLoss());
        assertTrue(after < before - 1.0, "eval loss should fall by more than 1 nat: " + before + " -> " + after);
        assertEquals(Math.exp(after), r.evalMetrics().get("eval_perplexity"), 1e-9 * Math.exp(after));
        HfCheckpoint saved = HfCheckpoint.open(r.outputDir());
        assertEquals(
                "GPT2LMHeadModel", saved.config().path("architectures").path(0).asText());
        assertTrue(Files.isRegularFile(r.outputDir().resolve("tokenizer.json")));

        PipelineOptions options = PipelineOptions.builder()
                .generateKwargs(Json.MAPPER.createObjectNode().put("max_new_tokens", 24))
                .build();
        String prompt = "Licensor shall not be";
        try (Pipeline<?> p = Pipelines.create("text-generation", r.outputDir(), options)) {
            JsonNode out = p.predictHf(PipelineInput.texts(List.of(prompt)));
            JsonNode first = out.get(0).isArray() ? out.get(0).get(0) : out.get(0);
            String text = first.get("generated_text").asText();
            System.out.println("greedy sample: " + text);
            assertTrue(text.startsWith(prompt) && text.length() > prompt.length() + 10, text);
        }
        String keep = System.getProperty(KEEP);
        if (keep != null) copyFolder(r.outputDir(), Path.of(keep));
        checkAgainstPythonReference(r.outputDir());
    }

    @Test
    void sameSeedGivesTheSameLosses(@TempDir Path tmp) throws IOException {
        Trainer.TrainOutput a = trainFromScratch(tmp.resolve("a"), 4);
        Trainer.TrainOutput b = trainFromScratch(tmp.resolve("b"), 4);
        assertEquals(a.trainingLoss(), b.trainingLoss());
        assertEquals(a.evalMetrics().get("eval_loss"), b.evalMetrics().get("eval_loss"));
    }

    @Test
    void lossShiftsLabelsInsideAndIgnoresMinus100() {
        try (NDManager m = NDManager.newBaseManager()) {
            // vocabulary 3; position t's logits favour token (t + 1) % 3
            float[] logits = new float[2 * 3 * 3];
            for (int b = 0; b < 2; b++) for (int t = 0; t < 3; t++) logits[(b * 3 + t) * 3 + (t + 1) % 3] = 5f;
            NDArray l = m.create(logits, new Shape(2, 3, 3));
            NDArray labels = m.create(new long[] {0, 1, 2, 0, 1, -100}, new Shape(2, 3));
            double loss =
                    TrainingLoss.causalLanguageModeling().compute(l, labels).getFloat();
            double perfect = Math.log(1 + 2 * Math.exp(-5)); // every counted prediction right
            assertEquals(perfect, loss, 1e-6);
            NDArray wrong = m.create(new long[] {0, 2, 0, 0, 1, -100}, new Shape(2, 3));
            double worse =
                    TrainingLoss.causalLanguageModeling().compute(l, wrong).getFloat();
            assertEquals((2 * (5 + perfect) + perfect) / 3, worse, 1e-5); // 3 counted labels, 2 of them wrong
        }
    }

    @Test
    void instructionPairsMaskThePromptAndPaddingIsIgnored() {
        CausalLanguageModelingTask.Example e =
                CausalLanguageModelingTask.pair(new long[] {5, 6, 7}, new long[] {8, 9}, 0, 16);
        assertArrayEquals(new long[] {5, 6, 7, 8, 9, 0}, e.inputIds());
        assertArrayEquals(new long[] {-100, -100, -100, 8, 9, 0}, e.labels());
        CausalLanguageModelingTask.Example cut =
                CausalLanguageModelingTask.pair(new long[] {5, 6, 7}, new long[] {8, 9}, 0, 4);
        assertArrayEquals(new long[] {5, 6, 7, 8}, cut.inputIds());
        assertArrayEquals(new long[] {-100, -100, -100, 8}, cut.labels());
        try (NDManager m = NDManager.newBaseManager()) {
            ModelBatch b = CausalLanguageModelingTask.collate(
                    m, List.of(e, new CausalLanguageModelingTask.Example(new long[] {3, 4}, new long[] {3, 4})), 0);
            assertArrayEquals(
                    new long[] {5, 6, 7, 8, 9, 0, 3, 4, 0, 0, 0, 0},
                    b.inputs().get(0).toLongArray());
            assertArrayEquals(
                    new long[] {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},
                    b.inputs().get(1).toLongArray());
            assertArrayEquals(
                    new long[] {-100, -100, -100, 8, 9, 0, 3, 4, -100, -100, -100, -100},
                    b.labels().toLongArray());
            assertEquals(8, b.count());
        }
    }

    @Test
    void instructionTuningLearnsTheResponsesOnly(@TempDir Path tmp) throws IOException {
        List<String[]> qa = RealText.definitionQuestions();
        List<String> prompts = qa.stream().map(q -> q[0] + "\n").toList();
        List<String> responses = qa.stream().map(q -> q[2]).toList();
        TextDataset data = TextDataset.of("license definitions as instructions", prompts, responses, null);
        Trainer.TrainOutput r = Trainer.builder(
                        args(tmp.resolve("sft"), 30), TrainingTask.instructionTuning(TOKENIZER, 64))
                .evalBeforeTraining(true)
                .build()
                .train(data, data);
        double before = r.initialEval().get("eval_loss");
        double after = r.evalMetrics().get("eval_loss");
        System.out.printf("instruction tuning: response eval_loss %.4f -> %.4f%n", before, after);
        assertTrue(after < before - 1.0, before + " -> " + after);
        assertEquals(
                (double) responses.stream()
                        .mapToLong(s -> s.length() > 0 ? 1 : 0)
                        .count(),
                qa.size());
    }

    @Test
    void groupTextsRefusesTooLittleTextAndInstructionPairsArePaddedNotPacked(@TempDir Path tmp) throws IOException {
        TextDataset few = TextDataset.of("two words", List.of("two words"), null, null);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> Trainer.builder(
                                args(tmp.resolve("o"), 1), TrainingTask.causalLanguageModeling(TOKENIZER, 32, true))
                        .build()
                        .train(few, null));
        assertTrue(e.getMessage().contains("fewer than one block of block_size 32"), e.getMessage());
        IllegalArgumentException packed = assertThrows(
                IllegalArgumentException.class, () -> new CausalLanguageModelingTask(TOKENIZER, null, 32, true, true));
        assertTrue(packed.getMessage().contains("instruction pairs are not packed"), packed.getMessage());
    }

    /** Logits of the saved checkpoint for the reference inputs vs transformers' (when the reference file exists). */
    private static void checkAgainstPythonReference(Path checkpoint) throws IOException {
        Path refFile = Path.of("src/test/resources/clm/references.json");
        if (!Files.exists(refFile)) return;
        JsonNode ref = Json.MAPPER.readTree(refFile.toFile());
        JsonNode inputs = ref.get("input_ids");
        int b = inputs.size();
        int t = inputs.get(0).size();
        long[] ids = new long[b * t];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < t; j++) ids[i * t + j] = inputs.get(i).get(j).asLong();
        try (HfModel m = HfModel.fromPretrained(checkpoint, Task.CAUSAL_LM);
                NDManager scope = m.manager().newSubManager();
                NoGrad g = NoGrad.enter()) {
            Shape s = new Shape(b, t);
            NDList in = new NDList(scope.create(ids, s), scope.ones(s, DataType.INT64));
            NDArray logits = m.block()
                    .forward(new ParameterStore(scope, false), in, false)
                    .head(); // (B, T, V)
            float[] got = logits.toFloatArray();
            JsonNode want = ref.get("logits");
            long vocab = logits.getShape().get(2);
            double maxDiff = 0;
            for (int i = 0; i < b; i++)
                for (int j = 0; j < t; j++)
                    for (int v = 0; v < vocab; v++) {
                        double d = got[(int) ((i * t + j) * vocab + v)]
                                - want.get(i).get(j).get(v).asDouble();
                        maxDiff = Math.max(maxDiff, Math.abs(d));
                    }
            double loss = TrainingLoss.causalLanguageModeling()
                    .compute(logits, scope.create(ids, s))
                    .getFloat();
            System.out.printf(
                    "clm logits vs transformers %s: max |diff| = %.3g; loss %.6f vs %.6f%n",
                    ref.get("transformers").asText(),
                    maxDiff,
                    loss,
                    ref.get("loss").asDouble());
            assertTrue(maxDiff <= 1e-4, "max |diff| = " + maxDiff);
            assertEquals(ref.get("loss").asDouble(), loss, 1e-5);
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
