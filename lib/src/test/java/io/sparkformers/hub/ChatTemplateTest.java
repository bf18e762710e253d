package io.sparkformers.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.ChatTemplate.ChatTemplateException;
import io.sparkformers.hub.ChatTemplate.Message;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Chat templates of real models (Llama 3, ChatML/Qwen2, Mistral v0.1 and v0.3, Zephyr, Python string methods)
 * rendered as transformers 4.57.6's {@code apply_chat_template} renders them (resources/chat_templates, made by
 * make_chat_template_references.py): the same text exactly, or the template's own raise_exception message.
 */
class ChatTemplateTest {

    static JsonNode references() throws IOException {
        try (InputStream in = ChatTemplateTest.class.getResourceAsStream("/chat_templates/references.json")) {
            return Json.MAPPER.readTree(in);
        }
    }

    static Stream<Arguments> cases() throws IOException {
        List<Arguments> out = new ArrayList<>();
        for (JsonNode c : references().get("cases")) {
            out.add(Arguments.of(
                    c.get("template").asText(),
                    c.get("conversation").asText(),
                    c.get("add_generation_prompt").asBoolean()));
        }
        return out.stream();
    }

    static List<Message> messages(JsonNode conversation) {
        List<Message> out = new ArrayList<>();
        for (JsonNode m : conversation)
            out.add(new Message(m.get("role").asText(), m.get("content").asText()));
        return out;
    }

    @ParameterizedTest(name = "{0} on {1}, add_generation_prompt={2}")
    @MethodSource("cases")
    void rendersAsTransformersApplyChatTemplate(String template, String conversation, boolean generationPrompt)
            throws IOException {
        JsonNode refs = references();
        JsonNode expected = null;
        for (JsonNode c : refs.get("cases")) {
            if (c.get("template").asText().equals(template)
                    && c.get("conversation").asText().equals(conversation)
                    && c.get("add_generation_prompt").asBoolean() == generationPrompt) expected = c;
        }
        JsonNode t = refs.get("templates").get(template);
        Map<String, Object> tokens = new LinkedHashMap<>();
        t.get("special_tokens")
                .fields()
                .forEachRemaining(e -> tokens.put(e.getKey(), e.getValue().asText()));
        ChatTemplate chat = new ChatTemplate(t.get("template").asText(), tokens);
        List<Message> messages = messages(refs.get("conversations").get(conversation));
        if (expected.has("error")) {
            ChatTemplateException e =
                    assertThrows(ChatTemplateException.class, () -> chat.render(messages, generationPrompt));
            assertEquals(expected.get("error").asText(), e.getMessage());
        } else {
            assertEquals(expected.get("text").asText(), chat.render(messages, generationPrompt));
        }
    }

    @Test
    void readsTheTemplateAndSpecialTokensFromTokenizerConfig(@TempDir Path dir) throws IOException {
        ObjectNode config = Json.MAPPER.createObjectNode();
        assertNull(ChatTemplate.forCheckpoint(dir, config));
        config.put("bos_token", "<s>");
        config.putObject("eos_token").put("content", "</s>");
        config.putArray("chat_template")
                .add(Json.MAPPER.createObjectNode().put("name", "tool_use").put("template", "tools"))
                .add(Json.MAPPER
                        .createObjectNode()
                        .put("name", "default")
                        .put(
                                "template",
                                "{{ bos_token }}{% for m in messages %}{{ m.content }}{{ eos_token }}"
                                        + "{% endfor %}"));
        ChatTemplate chat = ChatTemplate.forCheckpoint(dir, config);
        assertEquals("<s>hi</s>", chat.render(List.of(new Message("user", "hi")), true));
    }
}
