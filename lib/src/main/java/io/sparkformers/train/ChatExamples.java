package io.sparkformers.train;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.ChatTemplate;
import io.sparkformers.hub.Json;
import java.util.ArrayList;
import java.util.List;

/**
 * Instruction data as chat messages, as TRL's SFT with {@code assistant_only_loss}: a conversation (a JSON array of
 * {@code {"role", "content"}} objects) is rendered through the tokenizer's chat template (HF
 * {@code apply_chat_template(tokenize=False)}), tokenized without added specials (the template writes them), and
 * every token outside the assistant's turns is -100 in the labels.
 *
 * <p>HF finds the assistant's turns through {@code {% generation %}} blocks in the template
 * ({@code return_assistant_tokens_mask=True}); most published templates have none, so the turns are found here by
 * rendering the conversation prefix by prefix: assistant turn i spans the characters between
 * {@code render(messages[:i], add_generation_prompt=True)} and {@code render(messages[:i+1])} — its content and
 * whatever the template closes the turn with (end-of-turn token, newline), the header not included. A token is the
 * assistant's when it overlaps such a span (HF marks from the token holding the span's first character through the
 * one holding its last). Equal to HF's masks for templates whose generation blocks wrap exactly that
 * ({@code make_chat_mask_references.py}); a template that does not render a conversation as the concatenation of its
 * prefixes (one that rewrites earlier turns) is refused, naming the row.
 */
final class ChatExamples {
    private ChatExamples() {}

    /** The messages of a row's JSON text; errors name the row and say what a row must hold. */
    static List<ChatTemplate.Message> parse(String json, String where) {
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(json);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException(where + ": the messages are not JSON ("
                    + e.getMessage().lines().findFirst().orElse("") + "); give a JSON array of "
                    + "{\"role\": …, \"content\": …} objects");
        }
        if (node == null || !node.isArray() || node.isEmpty()) {
            throw new IllegalArgumentException(where + ": the messages must be a non-empty JSON array of "
                    + "{\"role\": …, \"content\": …} objects");
        }
        List<ChatTemplate.Message> out = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            JsonNode m = node.get(i);
            if (!m.path("role").isTextual() || !m.path("content").isTextual()) {
                throw new IllegalArgumentException(
                        where + ": message " + i + " needs a string role and a string " + "content but was " + m);
            }
            out.add(new ChatTemplate.Message(
                    m.get("role").asText(), m.get("content").asText()));
        }
        if (out.stream().noneMatch(m -> m.role().equals("assistant"))) {
            throw new IllegalArgumentException(where + ": the conversation has no assistant message, so nothing "
                    + "would be learned; drop the row or add the assistant's reply");
        }
        return out;
    }

    /**
     * One example: the rendered conversation's token ids and their labels (the ids on assistant tokens, -100
     * elsewhere), truncated to {@code blockSize}.
     */
    static CausalLanguageModelingTask.Example example(
            List<ChatTemplate.Message> messages,
            ChatTemplate template,
            HuggingFaceTokenizer tok,
            int blockSize,
            String where) {
        String full = template.render(messages, false);
        List<int[]> spans = new ArrayList<>(); // [start, end) in code points of full
        for (int i = 0; i < messages.size(); i++) {
            if (!messages.get(i).role().equals("assistant")) continue;
            String before = template.render(messages.subList(0, i), true);
            String through = template.render(messages.subList(0, i + 1), false);
            if (!through.startsWith(before) || !full.startsWith(through)) {
                throw new IllegalArgumentException(where + ": the chat template does not render this conversation "
                        + "as the concatenation of its prefixes (message " + i + "), so the assistant's tokens "
                        + "cannot be told apart; use prompt/response columns instead");
            }
            spans.add(new int[] {full.codePointCount(0, before.length()), full.codePointCount(0, through.length())});
        }
        Encoding enc = tok.encode(full, false, false);
        long[] ids = enc.getIds();
        CharSpan[] chars = enc.getCharTokenSpans(); // code points, as the tokenizers library counts
        int n = Math.min(ids.length, blockSize);
        long[] kept = java.util.Arrays.copyOf(ids, n);
        long[] labels = new long[n];
        for (int j = 0; j < n; j++) {
            labels[j] = chars[j] != null && assistant(spans, chars[j].getStart(), chars[j].getEnd())
                    ? ids[j]
                    : DataCollatorWithPadding.IGNORE_INDEX;
        }
        return new CausalLanguageModelingTask.Example(kept, labels);
    }

    private static boolean assistant(List<int[]> spans, int start, int end) {
        for (int[] s : spans) if (start < s[1] && end > s[0]) return true;
        return false;
    }
}
