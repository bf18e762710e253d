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
    static final Path GPT2 = Path.of("..", "lib", "src", "test", "resources", "generation", "gpt2-tiny");

    @TempDir
    Path tmp;

    @Test
    void causalLmWithLoraFinetunesOnTwoWorkersAndOne() throws Exception {
        System.setProperty("ai.djl.offline", "true");
        String[] sentences = {
            "You must give any other recipients of the Work a copy of this License.",
            "You must cause any modified files to carry prominent notices stating that You changed the files.",
            "Licensor provides the Work on an AS IS BASIS, without warranties or conditions of any kind.",
            "This License does not grant permission to use the trade names of the Licensor.",
            "Each Contributor hereby grants to You a perpetual, worldwide, no-charge copyright license.",
            "The licensee may copy and distribute the Program in any medium.",
        };
        StringBuilder train = new StringBuilder();
        for (String s : sentences)
            train.append(Json.MAPPER.createObjectNode().put("text", s)).append('\n');
        Path data = tmp.resolve("texts.jsonl");
        Files.writeString(data, train);
        for (int workers : new int[] {2, 1}) {
            Path out = tmp.resolve("out" + workers);
            Path config = tmp.resolve("clm" + workers + ".yaml");
            Files.writeString(
                    config,
                    String.join(
                            "\n",
                            "model: " + GPT2.toAbsolutePath(),
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
                            "  logging_steps: 1",
                            ""));
            System.setProperty("spark.master", "local[2]");
            CliRun r;
            try {
                r = CliRun.of("finetune", "--config", config.toString(), "--workers", "" + workers, "--json");
            } finally {
                System.clearProperty("spark.master");
                org.apache.spark.sql.SparkSession.getDefaultSession().foreach(s -> {
                    s.stop();
                    return null;
                });
            }
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
