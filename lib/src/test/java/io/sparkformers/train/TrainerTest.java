package io.sparkformers.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import io.sparkformers.safetensors.SafetensorsCheckpoint;
import io.sparkformers.safetensors.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Trainer end to end on a tiny random BERT: resumption, checkpoint layout, rotation and best-model edge cases. */
class TrainerTest {

    @TempDir
    static Path shared;

    static Path tiny;

    @TempDir
    Path tmp;

    @BeforeAll
    static void tinyModel() throws IOException {
        tiny = TinyBert.create(shared.resolve("tiny"));
    }

    static TrainingArguments.Builder args(Path out) {
        return TrainingArguments.builder(out.toString())
                .perDeviceTrainBatchSize(4)
                .gradientAccumulationSteps(2)
                .learningRate(1e-3)
                .weightDecay(0.01)
                .warmupSteps(2)
                .loggingSteps(2)
                .saveSteps(3)
                .seed(11)
                .reportTo(List.of("jsonl"));
    }

    static Map<String, Tensor> weights(Path dir) throws IOException {
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir.resolve("model.safetensors"))) {
            return c.readAll();
        }
    }

    /** Stops the loop after {@code step}, as a crash right after a checkpoint would. */
    record StopAt(long step) implements TrainerCallback {
        @Override
        public void onStepEnd(TrainingArguments a, TrainerState s, TrainerControl c) {
            if (s.globalStep == step) c.shouldTrainingStop = true;
        }
    }

    @Test
    void stoppingAfterACheckpointAndResumingGivesBitIdenticalWeights() throws IOException {
        TextDataset train = TinyBert.sentiment(36, 0);
        Path full = tmp.resolve("full");
        Trainer.builder(args(full).maxSteps(7).build(), tiny).build().train(train, null);

        Path cut = tmp.resolve("cut");
        Trainer.builder(args(cut).maxSteps(7).build(), tiny)
                .callback(new StopAt(3))
                .build()
                .train(train, null);
        assertTrue(Files.isDirectory(cut.resolve("checkpoint-3")));
        assertNotEquals(weights(full), weights(cut), "the stopped run must differ before resuming");
        Trainer.builder(
                        args(cut)
                                .maxSteps(7)
                                .set("resume_from_checkpoint", "true")
                                .build(),
                        tiny)
                .build()
                .train(train, null);

        Map<String, Tensor> a = weights(full);
        Map<String, Tensor> b = weights(cut);
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) assertEquals(a.get(k), b.get(k), k);
        // the optimizer state too, and the same steps were logged after the resume point
        assertEquals(optimizer(full.resolve("checkpoint-7")), optimizer(cut.resolve("checkpoint-7")));
        TrainerState sa = TrainerState.load(full.resolve("trainer_state.json"));
        TrainerState sb = TrainerState.load(cut.resolve("trainer_state.json"));
        assertEquals(losses(sa, 4), losses(sb, 4));
    }

    private static Map<String, Tensor> optimizer(Path ckpt) throws IOException {
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(ckpt.resolve("optimizer.safetensors"))) {
            return c.readAll();
        }
    }

    private static List<Object> losses(TrainerState s, long fromStep) {
        List<Object> out = new ArrayList<>();
        for (Map<String, Object> e : s.logHistory) {
            if (e.containsKey("loss") && ((Number) e.get("step")).longValue() > fromStep) out.add(e.get("loss"));
        }
        return out;
    }

    @Test
    void checkpointHasHfFilesKeysAndConfig() throws IOException {
        Path out = tmp.resolve("out");
        Trainer.TrainOutput r = Trainer.builder(args(out).maxSteps(3).build(), tiny)
                .build()
                .train(TinyBert.sentiment(24, 0), TinyBert.sentiment(8, 100));
        Path ckpt = out.resolve("checkpoint-3");
        try (Stream<Path> s = Files.list(ckpt)) {
            assertEquals(
                    new TreeSet<>(List.of(
                            "config.json",
                            "model.safetensors",
                            "tokenizer.json",
                            "tokenizer_config.json",
                            "optimizer.safetensors",
                            "scheduler.json",
                            "trainer_state.json",
                            "rng_state.json",
                            "training_args.json")),
                    new TreeSet<>(s.map(p -> p.getFileName().toString()).toList()));
        }
        List<String> expected = new ArrayList<>(List.of(
                "bert.embeddings.word_embeddings.weight",
                "bert.embeddings.position_embeddings.weight",
                "bert.embeddings.token_type_embeddings.weight",
                "bert.embeddings.LayerNorm.weight",
                "bert.embeddings.LayerNorm.bias",
                "bert.pooler.dense.weight",
                "bert.pooler.dense.bias",
                "classifier.weight",
                "classifier.bias"));
        for (int l = 0; l < 2; l++) {
            for (String m : List.of(
                    "attention.self.query",
                    "attention.self.key",
                    "attention.self.value",
                    "attention.output.dense",
                    "attention.output.LayerNorm",
                    "intermediate.dense",
                    "output.dense",
                    "output.LayerNorm")) {
                expected.add("bert.encoder.layer." + l + "." + m + ".weight");
                expected.add("bert.encoder.layer." + l + "." + m + ".bias");
            }
        }
        assertEquals(new TreeSet<>(expected), new TreeSet<>(weights(ckpt).keySet()));
        assertEquals(
                List.of(2L, 32L),
                List.of(
                        weights(ckpt).get("classifier.weight").shape()[0],
                        weights(ckpt).get("classifier.weight").shape()[1]));
        ObjectNode config = Json.readObject(ckpt.resolve("config.json"));
        assertEquals(
                "BertForSequenceClassification",
                config.get("architectures").get(0).asText());
        assertEquals("neg", config.get("id2label").get("0").asText());
        assertEquals("pos", config.get("id2label").get("1").asText());
        assertEquals(1, config.get("label2id").get("pos").asInt());
        assertEquals("single_label_classification", config.get("problem_type").asText());
        assertEquals("bert", config.get("model_type").asText());
        // final model, reports and provenance in output_dir, as run_glue.py leaves them
        for (String f : List.of(
                "config.json",
                "model.safetensors",
                "tokenizer.json",
                "train_results.json",
                "eval_results.json",
                "all_results.json",
                "trainer_state.json",
                "provenance.json",
                "training_curves.png",
                "log_history.jsonl",
                "training_args.json")) {
            assertTrue(Files.exists(out.resolve(f)), f);
        }
        ObjectNode prov = Json.readObject(out.resolve("provenance.json"));
        assertEquals(11, prov.get("seed").asInt());
        assertEquals(24, prov.get("data").get("train").get("examples").asInt());
        assertEquals(
                tiny.toAbsolutePath().normalize().toString(),
                prov.get("source_checkpoint").asText());
        assertTrue(r.evalMetrics().containsKey("eval_accuracy"), r.evalMetrics().toString());
        assertTrue(r.evalMetrics().containsKey("eval_f1"));
        // log entries carry HF's keys
        TrainerState st = TrainerState.load(out.resolve("trainer_state.json"));
        Map<String, Object> first = st.logHistory.get(0);
        assertEquals(
                new TreeSet<>(List.of("loss", "grad_norm", "learning_rate", "epoch", "step")),
                new TreeSet<>(first.keySet()));
    }

    /** Scripted eval_loss values so "best" is known: HF compares after on_evaluate, so a callback can set it. */
    record ScriptedLoss(double... values) implements TrainerCallback {
        @Override
        public void onEvaluate(TrainingArguments a, TrainerState s, TrainerControl c, Map<String, Double> m) {
            int i = (int) (s.globalStep / 2) - 1;
            if (i >= 0 && i < values.length) m.put("eval_loss", values[i]);
        }
    }

    @Test
    void saveTotalLimitOneKeepsOnlyTheBestAndLoadsItAtTheEnd() throws IOException {
        Path out = tmp.resolve("best");
        TrainingArguments a = args(out)
                .maxSteps(8)
                .evalStrategy("steps")
                .evalSteps(2.0)
                .saveSteps(2)
                .saveTotalLimit(1)
                .loadBestModelAtEnd(true)
                .build(); // metric: loss, greater_is_better false
        assertEquals(Boolean.FALSE, a.greaterIsBetter());
        Trainer.TrainOutput r = Trainer.builder(a, tiny)
                .callback(new ScriptedLoss(0.5, 0.2, 0.9, 0.7))
                .build()
                .train(TinyBert.sentiment(36, 0), TinyBert.sentiment(8, 100));
        assertEquals(out.resolve("checkpoint-4").toString(), r.bestCheckpoint());
        try (Stream<Path> s = Files.list(out)) {
            assertEquals(
                    List.of("checkpoint-4"),
                    s.map(p -> p.getFileName().toString())
                            .filter(n -> n.startsWith("checkpoint-"))
                            .sorted()
                            .toList());
        }
        assertEquals(weights(out.resolve("checkpoint-4")), weights(out));
    }

    @Test
    void greaterIsBetterKeepsTheOldBestBesideTheNewest() throws IOException {
        Path out = tmp.resolve("gib");
        TrainingArguments a = args(out)
                .maxSteps(8)
                .evalStrategy("steps")
                .evalSteps(2.0)
                .saveSteps(2)
                .saveTotalLimit(2)
                .metricForBestModel("loss")
                .greaterIsBetter(true)
                .build();
        Trainer.TrainOutput r = Trainer.builder(a, tiny)
                .callback(new ScriptedLoss(0.9, 0.2, 0.3, 0.1))
                .build()
                .train(TinyBert.sentiment(36, 0), TinyBert.sentiment(8, 100));
        assertEquals(out.resolve("checkpoint-2").toString(), r.bestCheckpoint());
        try (Stream<Path> s = Files.list(out)) {
            assertEquals(
                    List.of("checkpoint-2", "checkpoint-8"),
                    s.map(p -> p.getFileName().toString())
                            .filter(n -> n.startsWith("checkpoint-"))
                            .sorted()
                            .toList());
        }
        assertFalse(weights(out.resolve("checkpoint-2")).equals(weights(out)), "no load_best: the last weights stay");
    }
}
