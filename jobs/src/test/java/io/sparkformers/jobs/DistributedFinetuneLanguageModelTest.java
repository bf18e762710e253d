package io.sparkformers.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkformers.jobs.config.FinetuneConfig;
import io.sparkformers.spark.CausalLanguageModelTrainer;
import io.sparkformers.spark.MaskedLanguageModelTrainer;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A masked-lm or causal-lm finetune config turned into its LM Estimator for {@code --workers N}. */
class DistributedFinetuneLanguageModelTest {

    private static FinetuneConfig config(String task, Map<String, Object> objective) {
        return FinetuneConfig.fromMap(
                Map.of(
                        "model",
                        "m",
                        "task",
                        task,
                        "objective",
                        objective,
                        "data",
                        Map.of("train", "x.csv", "max_length", 64),
                        "training",
                        Map.of("output_dir", "o", "learning_rate", 1e-4, "max_steps", 7)),
                Map.of());
    }

    @Test
    void maskedLmConfigGivesTheMaskedTrainerWithItsObjectiveAndTrainingArguments() {
        var est = DistributedFinetune.languageModel(
                config("masked-lm", Map.of("mlm_probability", 0.2, "whole_word_mask", true)), Path.of("m"), 2);
        MaskedLanguageModelTrainer m = assertInstanceOf(MaskedLanguageModelTrainer.class, est);
        assertEquals(0.2, m.getOrDefault(m.mlmProbability()));
        assertEquals(true, m.getOrDefault(m.wholeWordMask()));
        assertEquals(2, m.getOrDefault(m.numWorkers()));
        assertEquals(64, m.getMaxLength());
        assertEquals("text", m.getOrDefault(m.inputCol()));
        assertEquals(1e-4, m.trainingArguments().learningRate());
        assertEquals(7L, m.trainingArguments().maxSteps());
    }

    @Test
    void causalLmConfigGivesTheCausalTrainerAndInstructionTuningStaysOnOneWorker() {
        assertInstanceOf(
                CausalLanguageModelTrainer.class,
                DistributedFinetune.languageModel(config("causal-lm", Map.of()), Path.of("m"), 2));
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> DistributedFinetune.languageModel(
                        config("causal-lm", Map.of("instruction", true)), Path.of("m"), 2));
        assertTrue(
                e.getMessage().contains("objective.instruction is not supported with --workers > 1"), e.getMessage());
    }

    @Test
    void theLoraSectionBecomesTheEstimatorsLoraParams() {
        FinetuneConfig c = FinetuneConfig.fromMap(
                Map.of(
                        "model",
                        "m",
                        "task",
                        "causal-lm",
                        "lora",
                        Map.of("r", 4, "lora_alpha", 16, "target_modules", java.util.List.of("c_attn")),
                        "data",
                        Map.of("train", "x.csv", "max_length", 64),
                        "training",
                        Map.of("output_dir", "o")),
                Map.of());
        var est = DistributedFinetune.languageModel(c, Path.of("m"), 2);
        var lora = est.loraConfig();
        assertEquals(4, lora.r());
        assertEquals(16.0, lora.loraAlpha());
        assertEquals(java.util.List.of("c_attn"), lora.targetModules());
        assertEquals(c.lora().bias(), lora.bias());
    }
}
