package io.sparkformers.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkformers.safetensors.SafetensorsCheckpoint;
import io.sparkformers.safetensors.Tensor;
import io.sparkformers.train.DataCollatorWithPadding.LabelKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A NaN or Inf loss or gradient norm stops training before the step is applied; the last checkpoint stays usable. */
class NonFiniteLossTest {

    @TempDir
    static Path shared;

    static Path tiny;

    @TempDir
    Path tmp;

    @BeforeAll
    static void tinyModel() throws IOException {
        tiny = TinyBert.create(shared.resolve("tiny"));
    }

    @Test
    void aNanRegressionLabelStopsAtTheFirstStepNamingTheValueAndTheFix() {
        Path out = tmp.resolve("nan");
        TrainingArguments a = TrainingArguments.builder(out.toString())
                .maxSteps(3)
                .perDeviceTrainBatchSize(2)
                .saveSteps(1)
                .build();
        TextDataset rows =
                TextDataset.of("regression rows", List.of("a good day", "a bad day"), null, List.of("1.5", "NaN"));
        NonFiniteLossException e = assertThrows(
                NonFiniteLossException.class,
                () -> Trainer.builder(a, tiny)
                        .labelKind(LabelKind.REGRESSION)
                        .progress(false)
                        .build()
                        .train(rows, null));
        assertEquals(1, e.step());
        assertTrue(Double.isNaN(e.value()));
        assertEquals(
                "training stopped at step 1: the loss is NaN (not finite), so the step was not applied; no checkpoint "
                        + "was written before it. Fix: lower learning_rate (now 5.0E-5) or set max_grad_norm, and "
                        + "check the labels and inputs for NaN, Inf or out-of-range values",
                e.getMessage());
        assertFalse(Files.exists(out.resolve("checkpoint-1")), "the NaN step wrote nothing");
    }

    @Test
    void aDivergingRunStopsAndKeepsTheLastFiniteCheckpointLoadable() throws IOException {
        Path out = tmp.resolve("diverge");
        // AdamW moves every weight by ~lr in its first step: 1e30 makes the next forward overflow float32
        TrainingArguments a = TrainingArguments.builder(out.toString())
                .maxSteps(6)
                .perDeviceTrainBatchSize(4)
                .learningRate(1e30)
                .saveSteps(1)
                .build();
        NonFiniteLossException e = assertThrows(
                NonFiniteLossException.class,
                () -> Trainer.builder(a, tiny).progress(false).build().train(TinyBert.sentiment(16, 0), null));
        assertTrue(e.step() >= 2, "step 1 starts from finite weights: " + e.getMessage());
        Path last = out.resolve(CheckpointManager.folderName(e.step() - 1));
        assertTrue(e.getMessage().startsWith("training stopped at step " + e.step() + ": the "), e.getMessage());
        assertTrue(e.getMessage().contains("the last checkpoint " + last + " stays loadable"), e.getMessage());
        assertTrue(e.getMessage().contains("lower learning_rate (now 1.0E30)"), e.getMessage());
        assertFalse(Files.exists(out.resolve(CheckpointManager.folderName(e.step()))));
        assertEquals(last, CheckpointManager.latestUsableCheckpoint(out).orElseThrow());
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(last.resolve("model.safetensors"))) {
            for (Map.Entry<String, Tensor> t : c.readAll().entrySet()) {
                for (float v : t.getValue().toFloatArray()) {
                    assertTrue(Float.isFinite(v), t.getKey() + " holds " + v);
                }
            }
        }
    }
}
