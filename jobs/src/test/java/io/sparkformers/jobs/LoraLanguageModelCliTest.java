package io.sparkformers.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code finetune} for {@code task: causal-lm} with a {@code lora:} section on lib's tiny GPT-2 (its {@code c_attn}
 * adapted): with {@code --workers 2} the config becomes a {@code CausalLanguageModelTrainer} with LoRA fitted by two
 * replicas, with {@code --workers 1} the driver's Trainer trains the adapter; both output folders hold the merged
 * checkpoint and the PEFT adapter (task_type CAUSAL_LM, r 4).
 */
class LoraLanguageModelCliTest {
    @TempDir
    Path tmp;

    @Test
    void causalLmWithLoraFinetunesOnTwoWorkersAndOne() throws Exception {
        System.setProperty("ai.djl.offline", "true");
        StringBuilder train = new StringBuilder();
        for (String s : FinetuneCliFixtures.LICENSE_SENTENCES)
            train.append(Json.MAPPER.createObjectNode().put("text", s)).append('\n');
        Path data = tmp.resolve("texts.jsonl");
        Files.writeString(data, train);
        for (int workers : new int[] {2, 1}) {
            Path out = tmp.resolve("out" + workers);
            Path config = FinetuneCliFixtures.yaml(
                    tmp.resolve("clm" + workers + ".yaml"),
                    "model: " + FinetuneCliFixtures.GPT2.toAbsolutePath(),
                    "task: causal-lm",
                    "lora:",
                    "  r: 4",
                    "  lora_alpha: 8",
                    "  target_modules: [c_attn]",
                    "data:",
                    "  train: " + data,
                    "  text_col: text",
                    "  max_length: 32",
                    "training:",
                    "  output_dir: " + out,
                    "  overwrite_output_dir: true",
                    "  max_steps: 2",
                    "  per_device_train_batch_size: 2",
                    "  learning_rate: 1.0e-2",
                    "  save_strategy: 'no'",
                    "  logging_steps: 1");
            CliRun r = FinetuneCliFixtures.finetune(config, workers, "--json");
            assertEquals(0, r.exitCode(), r.err());
            if (workers == 2) {
                String last = r.out().strip().lines().reduce((a, b) -> b).orElse("");
                JsonNode report = Json.MAPPER.readTree(last);
                assertEquals(2, report.get("ranks").size(), last);
            }
            JsonNode adapter = Json.MAPPER.readTree(
                    out.resolve("adapter").resolve("adapter_config.json").toFile());
            assertEquals("CAUSAL_LM", adapter.path("task_type").asText(), workers + " workers: " + adapter);
            assertEquals(4, adapter.path("r").asInt());
            assertTrue(Files.isRegularFile(out.resolve("adapter").resolve("adapter_model.safetensors")));
            assertTrue(Files.isRegularFile(out.resolve("model.safetensors")), workers + " workers: merged model");
        }
    }
}
