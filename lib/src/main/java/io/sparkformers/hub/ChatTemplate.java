package io.sparkformers.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.beans.FeatureDescriptor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * HF {@code tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=…)}: the checkpoint's Jinja
 * chat template rendered with jinjava in the environment HF's {@code _compile_jinja_template} builds — trim_blocks and
 * lstrip_blocks, {@code raise_exception(msg)} (fails the render with that message, as HF's TemplateError), the
 * tokenizer's special tokens ({@code bos_token}, {@code eos_token}, …) as variables — plus the Python string methods
 * templates call on message contents ({@code strip}, {@code startswith}, {@code split}, …), which Jinja gets from
 * Python and jinjava does not. The template comes from {@code chat_template.jinja} beside the tokenizer, else
 * {@code tokenizer_config.json}'s {@code chat_template} (a string, or HF's list of named templates: "default").
 */
public final class ChatTemplate {

    /** One chat message, HF's {@code {"role": …, "content": …}}. */
    public record Message(String role, String content) {}

    /** The failure of a template's {@code raise_exception} or of its rendering. */
    public static final class ChatTemplateException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        public ChatTemplateException(String message) {
            super(message);
        }
    }

    /** HF's {@code SPECIAL_TOKENS_ATTRIBUTES}, passed to the template by name. */
    private static final List<String> SPECIAL_TOKENS =
            List.of("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token");

    private static final Jinjava JINJA = environment();

    private final String template;
    private final Map<String, Object> specialTokens;

    /**
     * @param template      the Jinja source
     * @param specialTokens variables beside {@code messages} and {@code add_generation_prompt} (bos_token, …)
     */
    public ChatTemplate(String template, Map<String, ?> specialTokens) {
        this.template = template;
        this.specialTokens = new LinkedHashMap<>(specialTokens);
    }

    /** The checkpoint's chat template, or null when it has none. */
    public static ChatTemplate forCheckpoint(Path dir, JsonNode tokenizerConfig) throws IOException {
        Path file = dir.resolve("chat_template.jinja");
        String source = Files.isRegularFile(file)
                ? Files.readString(file, StandardCharsets.UTF_8)
                : templateOf(tokenizerConfig.get("chat_template"));
        if (source == null) return null;
        Map<String, Object> tokens = new LinkedHashMap<>();
        for (String name : SPECIAL_TOKENS) {
            String t = tokenText(tokenizerConfig.get(name));
            if (t != null) tokens.put(name, t);
        }
        JsonNode extra = tokenizerConfig.get("additional_special_tokens");
        if (extra != null && extra.isArray()) {
            List<String> list = new ArrayList<>();
            extra.forEach(n -> list.add(tokenText(n)));
            tokens.put("additional_special_tokens", list);
        }
        return new ChatTemplate(source, tokens);
    }

    /** The Jinja source. */
    public String template() {
        return template;
    }

    /**
     * The prompt text of a conversation, as HF's {@code apply_chat_template(tokenize=False)}.
     *
     * @param addGenerationPrompt end with the assistant turn's header (HF {@code add_generation_prompt})
     * @throws ChatTemplateException with the template's own message when it calls {@code raise_exception}
     */
    public String render(List<Message> messages, boolean addGenerationPrompt) {
        List<Map<String, Object>> chat = new ArrayList<>(messages.size());
        for (Message m : messages) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", m.role());
            map.put("content", m.content());
            chat.add(map);
        }
        Map<String, Object> context = new LinkedHashMap<>(specialTokens);
        context.put("messages", chat);
        context.put("add_generation_prompt", addGenerationPrompt);
        RenderResult result = JINJA.renderForResult(template, context);
        for (TemplateError e : result.getErrors()) {
            if (e.getSeverity() != TemplateError.ErrorType.FATAL) continue;
            for (Throwable t = e.getException(); t != null; t = t.getCause()) {
                if (t instanceof ChatTemplateException raised) throw new ChatTemplateException(raised.getMessage());
            }
            throw new ChatTemplateException(
                    "the chat template failed at line " + e.getLineno() + ": " + e.getMessage());
        }
        return result.getOutput();
    }

    /** Called by templates as {@code raise_exception(message)}. */
    public static String raiseException(String message) {
        throw new ChatTemplateException(message);
    }

    private static Jinjava environment() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonStrings());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withElResolver(resolver)
                .withLegacyOverrides(LegacyOverrides.newBuilder() // Jinja's own semantics where jinjava has a choice
                        .withParseWhitespaceControlStrictly(true)
                        .withUseTrimmingForNotesAndExpressions(true)
                        .withUseNaturalOperatorPrecedence(true)
                        .withEvaluateMapKeys(true)
                        .withIterateOverMapKeys(true)
                        .withKeepNullableLoopValues(true)
                        .build())
                .build();
        Jinjava jinja = new Jinjava(config);
        jinja.getGlobalContext()
                .registerFunction(new ELFunctionDefinition(
                        "", "raise_exception", ChatTemplate.class, "raiseException", String.class));
        return jinja;
    }

    private static String templateOf(JsonNode n) {
        if (n == null || n.isNull()) return null;
        if (n.isTextual()) return n.asText();
        for (JsonNode named : n) {
            if (named.path("name").asText().equals("default"))
                return named.path("template").asText();
        }
        throw new IllegalArgumentException("tokenizer_config.json's chat_template list has no \"default\" template");
    }

    private static String tokenText(JsonNode n) {
        if (n == null || n.isNull()) return null;
        return n.isTextual() ? n.asText() : n.path("content").asText(null);
    }

    /** Python's str methods on Java strings, as Jinja templates call them (Java's split takes a regex, Python's not). */
    static final class PythonStrings extends ELResolver {

        @Override
        public Object invoke(ELContext context, Object base, Object method, Class<?>[] types, Object[] params) {
            if (!(base instanceof String s) || method == null) return null;
            Object[] p = params == null ? new Object[0] : params;
            Object out = call(s, method.toString(), p);
            if (out != NONE) context.setPropertyResolved(true);
            return out == NONE ? null : out;
        }

        private static final Object NONE = new Object();

        private static Object call(String s, String name, Object[] p) {
            String a = p.length > 0 && p[0] != null ? p[0].toString() : null;
            return switch (name) {
                case "strip" -> p.length == 0 || a == null ? s.strip() : rstrip(lstrip(s, a), a);
                case "lstrip" -> p.length == 0 || a == null ? s.stripLeading() : lstrip(s, a);
                case "rstrip" -> p.length == 0 || a == null ? s.stripTrailing() : rstrip(s, a);
                case "startswith" -> a != null && s.startsWith(a);
                case "endswith" -> a != null && s.endsWith(a);
                case "upper" -> s.toUpperCase(Locale.ROOT);
                case "lower" -> s.toLowerCase(Locale.ROOT);
                case "title" -> title(s);
                case "capitalize" ->
                    s.isEmpty()
                            ? s
                            : s.substring(0, 1).toUpperCase(Locale.ROOT)
                                    + s.substring(1).toLowerCase(Locale.ROOT);
                case "split" -> split(s, a, p.length > 1 ? ((Number) p[1]).intValue() : -1);
                case "replace" -> s.replace(a, String.valueOf(p[1]));
                case "find" -> s.indexOf(a);
                case "count" -> count(s, a);
                default -> NONE;
            };
        }

        private static String title(String s) {
            StringBuilder b = new StringBuilder(s.length());
            boolean start = true;
            for (char c : s.toCharArray()) {
                b.append(start ? Character.toUpperCase(c) : Character.toLowerCase(c));
                start = !Character.isLetter(c);
            }
            return b.toString();
        }

        private static String lstrip(String s, String chars) {
            int i = 0;
            while (i < s.length() && chars.indexOf(s.charAt(i)) >= 0) i++;
            return s.substring(i);
        }

        private static String rstrip(String s, String chars) {
            int i = s.length();
            while (i > 0 && chars.indexOf(s.charAt(i - 1)) >= 0) i--;
            return s.substring(0, i);
        }

        private static List<String> split(String s, String sep, int max) {
            List<String> out = new ArrayList<>();
            if (sep == null) {
                for (String w : s.strip().split("\\s+")) if (!w.isEmpty()) out.add(w);
                return out;
            }
            int from = 0;
            int at;
            while ((max < 0 || out.size() < max) && (at = s.indexOf(sep, from)) >= 0) {
                out.add(s.substring(from, at));
                from = at + sep.length();
            }
            out.add(s.substring(from));
            return out;
        }

        private static int count(String s, String sub) {
            int n = 0;
            for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + Math.max(1, sub.length()))) n++;
            return n;
        }

        @Override
        public Object getValue(ELContext context, Object base, Object property) {
            return null;
        }

        @Override
        public Class<?> getType(ELContext context, Object base, Object property) {
            return null;
        }

        @Override
        public void setValue(ELContext context, Object base, Object property, Object value) {}

        @Override
        public boolean isReadOnly(ELContext context, Object base, Object property) {
            return true;
        }

        @Override
        public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
            return null;
        }

        @Override
        public Class<?> getCommonPropertyType(ELContext context, Object base) {
            return base instanceof String ? Object.class : null;
        }
    }
}
