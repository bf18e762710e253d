package io.sparkformers.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code finetune} with {@code objective.chat: true}: lib's tiny GPT-2 given a chat template learns from a JSON-lines
 * {@code messages} column (an array of {role, content} objects, read as its JSON text) with a LoRA adapter trained
 * with lora_dropout 0.1; the assistant's eval loss falls. {@code --workers 2} and a chat objective beside
 * instruction pairs are refused with the fix.
 */
class ChatFinetuneCliTest {

    @TempDir
    Path tmp;

    private static final String[][] CHATS = {
        {"What is a Contribution?", "Any work of authorship submitted to the Licensor for inclusion in the Work."},
        {"What is the Work?", "The work of authorship made available under the License."},
        {"Who is the Licensor?", "The copyright owner or entity authorized by the copyright owner."},
        {"What is a Derivative Work?", "Any work based on the Work, such as a revision or an elaboration."},
        {"What does the License grant?", "A perpetual, worldwide, no-charge, royalty-free copyright license."},
        {"What must a redistribution carry?", "A copy of this License and notices of any changed files."},
    };

    @Test
    void chatMessagesFinetuneALoraAdapterWithDropoutAndTheAssistantLossFalls() throws Exception {
        System.setProperty("ai.djl.offline", "true");
        Path model = chatModel();
        Path data = chats();
        Path out = tmp.resolve("out");
        Path config = config(model, data, out, "  chat: true");
        CliRun r = FinetuneCliFixtures.finetune(config, 1);
        assertEquals(0, r.exitCode(), r.err());
        JsonNode adapter = Json.MAPPER.readTree(
                out.resolve("adapter").resolve("adapter_config.json").toFile());
        assertEquals("CAUSAL_LM", adapter.path("task_type").asText(), adapter.toString());
        assertEquals(0.1, adapter.path("lora_dropout").asDouble(), adapter.toString());
        // "before training: loss 3.9056 …" and "after training: loss …" (the Trainer's eval on the chats' assistant
        // tokens before the first step and after the last)
        double before = printedLoss(r.out(), "before training: loss ");
        double after = printedLoss(r.out(), "after training: loss ");
        System.out.printf("finetune objective.chat + LoRA (dropout 0.1): eval_loss %.4f -> %.4f%n", before, after);
        assertTrue(after < before - 0.5, "assistant eval loss falls: " + before + " -> " + after);
    }

    @Test
    void chatIsRefusedOnSeveralWorkersAndBesideInstructionPairs() throws Exception {
        Path data = chats();
        CliRun workers = FinetuneCliFixtures.finetune(config(chatModel(), data, tmp.resolve("o2"), "  chat: true"), 2);
        assertNotEquals(0, workers.exitCode());
        assertTrue(
                workers.err().contains("objective.chat is not supported with --workers > 1: use --workers 1"),
                workers.err());
        CliRun both = FinetuneCliFixtures.finetune(
                config(chatModel(), data, tmp.resolve("o3"), "  chat: true\n  instruction: true"), 1);
        assertNotEquals(0, both.exitCode());
        assertTrue(
                both.err().contains("objective.chat reads messages from text_col: set objective.instruction false"),
                both.err());
    }

    private static double printedLoss(String out, String prefix) {
        for (String line : out.lines().toList()) {
            int at = line.indexOf(prefix);
            if (at >= 0)
                return Double.parseDouble(line.substring(at + prefix.length()).split("[ ,]")[0]);
        }
        throw new AssertionError("no '" + prefix + "' line in:\n" + out);
    }

    /** lib's tiny GPT-2 with a chat template in its tokenizer_config.json (dropouts 0: the loss comparison is exact). */
    private Path chatModel() throws Exception {
        Path dir = tmp.resolve("gpt2-chat");
        if (Files.isDirectory(dir)) return dir;
        Files.createDirectories(dir);
        try (var files = Files.list(FinetuneCliFixtures.GPT2)) {
            for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()));
        }
        var tok = Json.readObject(dir.resolve("tokenizer_config.json"));
        tok.put(
                "chat_template",
                "{% for m in messages %}{{ m.role }}: {{ m.content }}{{ eos_token }}\n{% endfor %}"
                        + "{% if add_generation_prompt %}assistant: {% endif %}");
        Json.write(dir.resolve("tokenizer_config.json"), tok);
        var config = Json.readObject(dir.resolve("config.json"));
        for (String k : List.of("attn_pdrop", "embd_pdrop", "resid_pdrop")) config.put(k, 0.0);
        Json.write(dir.resolve("config.json"), config);
        return dir;
    }

    /** One JSON object per line: {"messages": [{"role": "user", …}, {"role": "assistant", …}]}. */
    private Path chats() throws Exception {
        StringBuilder lines = new StringBuilder();
        for (String[] c : CHATS) {
            var row = Json.MAPPER.createObjectNode();
            var messages = row.putArray("messages");
            messages.addObject().put("role", "user").put("content", c[0]);
            messages.addObject().put("role", "assistant").put("content", c[1]);
            lines.append(row).append('\n');
        }
        Path data = tmp.resolve("chats.jsonl");
        Files.writeString(data, lines);
        return data;
    }

    private Path config(Path model, Path data, Path out, String objective) throws Exception {
        Path config = tmp.resolve(out.getFileName() + ".yaml");
        Files.writeString(
                config,
                String.join(
                        "\n",
                        "model: " + model.toAbsolutePath(),
                        "task: causal-lm",
                        "objective:",
                        objective,
                        "lora:",
                        "  r: 8",
                        "  lora_alpha: 16",
                        "  lora_dropout: 0.1",
                        "  target_modules: [c_attn, c_fc]",
                        "data:",
                        "  train: " + data,
                        "  eval: " + data,
                        "  text_col: messages",
                        "  max_length: 64",
                        "training:",
                        "  output_dir: " + out,
                        "  overwrite_output_dir: true",
                        "  max_steps: 12",
                        "  per_device_train_batch_size: 3",
                        "  learning_rate: 2.0e-2",
                        "  eval_strategy: steps",
                        "  eval_steps: 12",
                        "  save_strategy: 'no'",
                        "  logging_steps: 1",
                        "  seed: 7",
                        ""));
        return config;
    }
}
