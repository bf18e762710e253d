package io.sparkformers.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.Task;
import io.sparkformers.nn.lora.LoraConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gradient_checkpointing} through the one Trainer: with dropout off, every logged loss and gradient norm of a
 * causal-LM run (tiny GPT-2 from scratch, all weights trainable) and of a LoRA run (frozen BERT base and embeddings)
 * equals the run without it.
 */
class GradientCheckpointingTrainingTest {

    static {
        System.setProperty("ai.djl.offline", "true");
    }

    private static TrainingArguments args(Path out, boolean checkpointing) {
        return TrainingArguments.builder(out.toString())
                .perDeviceTrainBatchSize(8)
                .learningRate(2e-3)
                .maxSteps(4)
                .loggingSteps(1)
                .evalStrategy("no")
                .saveStrategy("no")
                .seed(42)
                .gradientCheckpointing(checkpointing)
                .build();
    }

    @Test
    void causalLmRunWithCheckpointingLogsTheSameLossesAndGradNorms(@TempDir Path tmp) throws IOException {
        ObjectNode config = CausalLanguageModelingTrainingTest.tinyGpt2Config()
                .put("resid_pdrop", 0.0)
                .put("embd_pdrop", 0.0)
                .put("attn_pdrop", 0.0);
        TextDataset train = MaskedLanguageModelingTrainingTest.licenseSplit()[0];
        List<double[]> runs = new ArrayList<>();
        for (boolean on : new boolean[] {false, true}) {
            Path out = tmp.resolve("clm-" + on);
            Trainer.builder(
                            args(out, on),
                            TrainingTask.causalLanguageModelingFromScratch(
                                    config, CausalLanguageModelingTrainingTest.TOKENIZER, 64, true))
                    .build()
                    .train(train, null);
            runs.add(logged(out));
        }
        assertSame(runs.get(0), runs.get(1));
    }

    @Test
    void loraRunWithCheckpointingLogsTheSameLossesAndGradNorms(@TempDir Path tmp) throws IOException {
        Path base = TinyBert.create(tmp.resolve("base"), false);
        List<double[]> runs = new ArrayList<>();
        for (boolean on : new boolean[] {false, true}) {
            Path out = tmp.resolve("lora-" + on);
            Trainer.builder(
                            args(out, on),
                            TrainingTask.textClassification(
                                    base,
                                    Task.SEQUENCE_CLASSIFICATION,
                                    null,
                                    List.of("neg", "pos"),
                                    32,
                                    LoraConfig.of(4, 8, LoraConfig.BERT_TARGETS)))
                    .build()
                    .train(TinyBert.sentiment(32, 0), null);
            runs.add(logged(out));
        }
        assertSame(runs.get(0), runs.get(1));
    }

    private static void assertSame(double[] plain, double[] checkpointed) {
        assertEquals(8, plain.length, "4 steps of (loss, grad_norm)");
        assertEquals(plain.length, checkpointed.length);
        for (int i = 0; i < plain.length; i++) {
            double rel = Math.abs(plain[i] - checkpointed[i]) / Math.abs(plain[i]);
            assertTrue(
                    rel <= 1e-5,
                    (i % 2 == 0 ? "loss" : "grad_norm") + " of step " + (i / 2 + 1) + ": " + plain[i] + " vs "
                            + checkpointed[i]);
        }
    }

    /** (loss, grad_norm) of every logged step, from trainer_state.json. */
    private static double[] logged(Path out) throws IOException {
        List<Double> v = new ArrayList<>();
        for (JsonNode e : Json.readObject(out.resolve("trainer_state.json")).path("log_history")) {
            if (!e.has("loss")) continue;
            v.add(e.get("loss").asDouble());
            v.add(e.get("grad_norm").asDouble());
        }
        return v.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
