package io.sparkformers.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkformers.jobs.config.FinetuneConfig;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A summarization / translation finetune config turned into its {@code Seq2SeqFineTuner} for {@code --workers N}. */
class DistributedFinetuneSeq2SeqTest {

    private static FinetuneConfig config(String task, Map<String, Object> training) {
        return FinetuneConfig.fromMap(
                Map.of(
                        "model",
                        "m",
                        "task",
                        task,
                        "objective",
                        Map.of(
                                "max_target_length", 24,
                                "source_prefix", "summarize: ",
                                "predict_with_generate", true,
                                "generation_max_length", 20,
                                "generation_num_beams", 2),
                        "data",
                        Map.of("train", "x.csv", "text_col", "body", "text_pair_col", "subject", "max_length", 96),
                        "training",
                        training),
                Map.of());
    }

    @Test
    void summarizationConfigGivesTheSeq2SeqFineTunerWithItsObjectiveAndTrainingArguments() {
        var est = DistributedFinetune.seq2seq(
                config("summarization", Map.of("output_dir", "o", "learning_rate", 3e-4, "max_steps", 9)),
                Path.of("m"),
                2);
        assertEquals(2, est.getOrDefault(est.numWorkers()));
        assertEquals(96, est.getMaxLength());
        assertEquals("text", est.getOrDefault(est.sourceCol()));
        assertEquals("text_pair", est.getOrDefault(est.targetCol()));
        assertEquals("summarize: ", est.getOrDefault(est.sourcePrefix()));
        assertEquals(24, est.getOrDefault(est.maxTargetLength()));
        assertEquals(true, est.getOrDefault(est.predictWithGenerate()));
        assertEquals(20, est.getOrDefault(est.generationMaxLength()));
        assertEquals(2, est.getOrDefault(est.generationNumBeams()));
        assertEquals(3e-4, est.trainingArguments().learningRate());
        assertEquals(9L, est.trainingArguments().maxSteps());
    }

    @Test
    void aTrainingArgumentWithoutAParamFailsNamingIt() {
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> DistributedFinetune.seq2seq(
                        config("translation", Map.of("output_dir", "o", "adam_beta1", 0.8)), Path.of("m"), 2));
        assertTrue(
                e.getMessage().contains("training.adam_beta1 = 0.8 is not supported with --workers > 1"),
                e.getMessage());
    }
}
