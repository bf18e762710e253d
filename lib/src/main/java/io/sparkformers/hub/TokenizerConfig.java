package io.sparkformers.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code tokenizer_config.json}: the settings that {@code tokenizer.json} does not carry. Unknown keys are kept so
 * that {@link #toJson()} writes back what was read.
 *
 * @param modelMaxLength longest input the model accepts, in tokens (HF {@code model_max_length}); truncation target
 * @param doLowerCase    whether the tokenizer lower-cases (HF {@code do_lower_case}); informational, tokenizer.json rules
 * @param clsToken       HF {@code cls_token}, default {@code [CLS]}
 * @param sepToken       HF {@code sep_token}, default {@code [SEP]}
 * @param padToken       HF {@code pad_token}, default {@code [PAD]}
 * @param maskToken      HF {@code mask_token}, default {@code [MASK]}
 * @param unkToken       HF {@code unk_token}, default {@code [UNK]}
 * @param raw            the whole JSON object as read (or built), unknown keys included
 */
public record TokenizerConfig(
        int modelMaxLength,
        boolean doLowerCase,
        String clsToken,
        String sepToken,
        String padToken,
        String maskToken,
        String unkToken,
        ObjectNode raw) {

    /** HF writes a huge sentinel (int(1e30)) when a tokenizer has no limit; we cap at this many tokens. */
    public static final int UNBOUNDED = 1_000_000;

    /** HF {@code clean_up_tokenization_spaces} (default true): whether decode removes spaces before punctuation. */
    public boolean cleanUpTokenizationSpaces() {
        return raw.path("clean_up_tokenization_spaces").asBoolean(true);
    }

    public TokenizerConfig {
        if (modelMaxLength <= 0)
            throw new IllegalArgumentException("model_max_length must be > 0, got " + modelMaxLength);
    }

    /** BERT uncased defaults with the given maximum length. */
    public static TokenizerConfig bertUncased(int modelMaxLength) {
        ObjectNode raw = Json.MAPPER.createObjectNode();
        raw.put("tokenizer_class", "BertTokenizer");
        raw.put("do_lower_case", true);
        raw.put("model_max_length", modelMaxLength);
        raw.put("cls_token", "[CLS]");
        raw.put("sep_token", "[SEP]");
        raw.put("pad_token", "[PAD]");
        raw.put("mask_token", "[MASK]");
        raw.put("unk_token", "[UNK]");
        return fromJson(raw);
    }

    public static TokenizerConfig fromJson(ObjectNode json) {
        JsonNode max = json.get("model_max_length");
        int maxLength = max == null || !max.isNumber() || max.asDouble() > UNBOUNDED ? UNBOUNDED : max.asInt();
        return new TokenizerConfig(
                maxLength,
                json.path("do_lower_case").asBoolean(false),
                token(json, "cls_token", "[CLS]"),
                token(json, "sep_token", "[SEP]"),
                token(json, "pad_token", "[PAD]"),
                token(json, "mask_token", "[MASK]"),
                token(json, "unk_token", "[UNK]"),
                json.deepCopy());
    }

    /** Special tokens are either a string or an AddedToken object {@code {"content": …}}. */
    private static String token(ObjectNode json, String key, String fallback) {
        JsonNode n = json.get(key);
        if (n == null || n.isNull()) return fallback;
        return n.isTextual() ? n.asText() : n.path("content").asText(fallback);
    }

    public ObjectNode toJson() {
        return raw.deepCopy();
    }
}
