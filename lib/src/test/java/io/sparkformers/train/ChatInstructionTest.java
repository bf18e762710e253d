package io.sparkformers.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.ChatTemplate;
import io.sparkformers.hub.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chat messages as instruction data: the rendered conversation's tokens and the assistant-only labels equal what HF
 * marks with {@code return_assistant_tokens_mask=True} on the same template with {@code {% generation %}} blocks
 * ({@code make_chat_mask_references.py}: ChatML and Zephyr over the real GPT-2 tokenizer, a multi-turn conversation
 * with a system message, non-ASCII text and an emoji); bad rows fail naming the row.
 */
class ChatInstructionTest {
    private static final Path DIR = Path.of("src/test/resources/chat_masks");

    @Test
    void assistantOnlyLabelsEqualHfsAssistantMasks() throws IOException {
        JsonNode refs = Json.MAPPER.readTree(DIR.resolve("references.json").toFile());
        int cases = 0;
        for (JsonNode c : refs.get("cases")) {
            Path dir = DIR.resolve(c.get("template").asText());
            ChatTemplate template =
                    ChatTemplate.forCheckpoint(dir, Json.readObject(dir.resolve("tokenizer_config.json")));
            List<ChatTemplate.Message> messages = ChatExamples.parse(
                    refs.get("conversations").get(c.get("conversation").asInt()).toString(), "case");
            try (HuggingFaceTokenizer tok = tokenizer(dir)) {
                CausalLanguageModelingTask.Example e = ChatExamples.example(messages, template, tok, 4096, "case");
                long[] ids = longs(c.get("input_ids"));
                long[] expected = new long[ids.length];
                for (int j = 0; j < ids.length; j++) {
                    expected[j] = c.get("assistant_masks").get(j).asInt() == 1
                            ? ids[j]
                            : DataCollatorWithPadding.IGNORE_INDEX;
                }
                String what = c.get("template").asText() + " conversation " + c.get("conversation");
                assertArrayEquals(ids, e.inputIds(), what + ": token ids");
                assertArrayEquals(expected, e.labels(), what + ": labels");
                CausalLanguageModelingTask.Example cut = ChatExamples.example(messages, template, tok, 20, "case");
                assertArrayEquals(java.util.Arrays.copyOf(expected, 20), cut.labels(), what + ": truncated");
            }
            cases++;
        }
        assertEquals(4, cases);
    }

    @Test
    void badRowsFailNamingTheRowAndTheFix() throws IOException {
        Path dir = DIR.resolve("chatml");
        ChatTemplate template = ChatTemplate.forCheckpoint(dir, Json.readObject(dir.resolve("tokenizer_config.json")));
        TextDataset rows = TextDataset.of("chats", List.of("[{\"role\": \"user\", \"content\": \"hi\"}]"), null, null);
        try (HuggingFaceTokenizer tok = tokenizer(dir)) {
            var specials = new CausalLanguageModelingTask.Specials(513, 513);
            IllegalArgumentException noReply = assertThrows(
                    IllegalArgumentException.class,
                    () -> CausalLanguageModelingTask.featurize(
                            rows, tok, specials, 64, false, true, template, false, "training"));
            assertEquals(
                    "the training dataset (chats) row 0: the conversation has no assistant message, so nothing would "
                            + "be learned; drop the row or add the assistant's reply",
                    noReply.getMessage());
        }
        IllegalArgumentException notJson =
                assertThrows(IllegalArgumentException.class, () -> ChatExamples.parse("user: hi", "row 7"));
        assertTrue(notJson.getMessage().startsWith("row 7: the messages are not JSON"), notJson.getMessage());
        IllegalArgumentException noContent = assertThrows(
                IllegalArgumentException.class, () -> ChatExamples.parse("[{\"role\": \"user\"}]", "row 8"));
        assertTrue(noContent.getMessage().contains("message 0 needs a string role and a string content"));
        // a template that rewrites earlier turns (here: numbers every message by the conversation's length)
        ChatTemplate rewriting = new ChatTemplate(
                "{% for m in messages %}{{ m.role }}{{ messages|length }}: {{ m.content }}\n{% endfor %}",
                java.util.Map.of());
        try (HuggingFaceTokenizer tok = tokenizer(dir)) {
            List<ChatTemplate.Message> chat =
                    List.of(new ChatTemplate.Message("user", "hi"), new ChatTemplate.Message("assistant", "hello"));
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class, () -> ChatExamples.example(chat, rewriting, tok, 64, "row 3"));
            assertTrue(
                    e.getMessage()
                            .startsWith("row 3: the chat template does not render this conversation as the "
                                    + "concatenation of its prefixes (message 1)"),
                    e.getMessage());
        }
    }

    @Test
    void trainingOnChatsLearnsTheAssistantsReplies(@TempDir Path tmp) throws IOException {
        Path ckpt = Files.createDirectories(tmp.resolve("gpt2-chat"));
        Path gpt2 = CausalLanguageModelingTrainingTest.TOKENIZER;
        try (var files = Files.list(gpt2)) {
            for (Path f : files.toList()) Files.copy(f, ckpt.resolve(f.getFileName()));
        }
        var config = Json.readObject(gpt2.resolve("tokenizer_config.json"));
        config.put(
                "chat_template",
                "{% for m in messages %}{{ m.role }}: {{ m.content }}{{ eos_token }}\n{% endfor %}"
                        + "{% if add_generation_prompt %}assistant: {% endif %}");
        Json.write(ckpt.resolve("tokenizer_config.json"), config);
        List<String> chats = new ArrayList<>();
        for (String[] q : RealText.definitionQuestions()) {
            var conv = Json.MAPPER.createArrayNode();
            conv.addObject().put("role", "user").put("content", q[0]);
            conv.addObject().put("role", "assistant").put("content", q[2]);
            chats.add(conv.toString());
        }
        TextDataset data = TextDataset.of("license definitions as chats", chats, null, null);
        Trainer.TrainOutput r = Trainer.builder(
                        CausalLanguageModelingTrainingTest.args(tmp.resolve("out"), 12),
                        TrainingTask.chatInstructionTuning(ckpt, 64))
                .evalBeforeTraining(true)
                .build()
                .train(data, data);
        double before = r.initialEval().get("eval_loss");
        double after = r.evalMetrics().get("eval_loss");
        System.out.printf("chat instruction tuning: assistant eval_loss %.4f -> %.4f%n", before, after);
        assertTrue(after < before - 1.0, before + " -> " + after);
    }

    private static HuggingFaceTokenizer tokenizer(Path dir) throws IOException {
        return HuggingFaceTokenizer.builder()
                .optTokenizerPath(dir.resolve("tokenizer.json"))
                .optAddSpecialTokens(false)
                .optTruncation(false)
                .optPadding(false)
                .build();
    }

    private static long[] longs(JsonNode a) {
        List<Long> l = new ArrayList<>();
        a.forEach(n -> l.add(n.asLong()));
        return l.stream().mapToLong(Long::longValue).toArray();
    }
}
