package io.sparkformers.convert;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds an HF tokenizers-format {@code tokenizer.json} for a BERT WordPiece vocabulary ({@code vocab.txt}),
 * matching what {@code transformers}' {@code BertTokenizerFast} converter writes for bert-base-uncased:
 * BertNormalizer, BertPreTokenizer, WordPiece model ({@code ##} continuation, 100 chars max per word),
 * {@code [CLS] $A [SEP]} / {@code [CLS] $A [SEP] $B:1 [SEP]:1} post-processing and a WordPiece decoder.
 */
public final class WordPieceTokenizerJson {

    /** The special tokens of BERT vocabularies, registered as added tokens in vocabulary order. */
    static final List<String> SPECIAL_TOKENS = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]");

    private WordPieceTokenizerJson() {}

    /**
     * @param vocab     tokens in id order (line {@code i} of {@code vocab.txt} has id {@code i})
     * @param lowerCase lower-case and strip accents (uncased models) or keep text as is (cased models)
     * @return UTF-8 JSON bytes
     */
    public static byte[] build(List<String> vocab, boolean lowerCase) {
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < vocab.size(); i++) {
            if (ids.putIfAbsent(vocab.get(i), i) != null) {
                throw new IllegalArgumentException("vocabulary has '" + vocab.get(i) + "' twice (ids "
                        + ids.get(vocab.get(i)) + " and " + i + ")");
            }
        }
        for (String s : SPECIAL_TOKENS) {
            if (!ids.containsKey(s)) throw new IllegalArgumentException("vocabulary lacks the special token " + s);
        }
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode root = f.objectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        SPECIAL_TOKENS.stream()
                .sorted((a, b) -> ids.get(a) - ids.get(b))
                .forEach(s -> added.addObject()
                        .put("id", ids.get(s))
                        .put("content", s)
                        .put("single_word", false)
                        .put("lstrip", false)
                        .put("rstrip", false)
                        .put("normalized", false)
                        .put("special", true));

        ObjectNode normalizer = root.putObject("normalizer");
        normalizer.put("type", "BertNormalizer");
        normalizer.put("clean_text", true);
        normalizer.put("handle_chinese_chars", true);
        normalizer.put("strip_accents", lowerCase);
        normalizer.put("lowercase", lowerCase);
        root.putObject("pre_tokenizer").put("type", "BertPreTokenizer");

        ObjectNode post = root.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        special(single, "[CLS]", 0);
        sequence(single, "A", 0);
        special(single, "[SEP]", 0);
        ArrayNode pair = post.putArray("pair");
        special(pair, "[CLS]", 0);
        sequence(pair, "A", 0);
        special(pair, "[SEP]", 0);
        sequence(pair, "B", 1);
        special(pair, "[SEP]", 1);
        ObjectNode specials = post.putObject("special_tokens");
        for (String s : List.of("[CLS]", "[SEP]")) {
            ObjectNode t = specials.putObject(s);
            t.put("id", s);
            t.putArray("ids").add(ids.get(s));
            t.putArray("tokens").add(s);
        }

        ObjectNode decoder = root.putObject("decoder");
        decoder.put("type", "WordPiece");
        decoder.put("prefix", "##");
        decoder.put("cleanup", true);

        ObjectNode model = root.putObject("model");
        model.put("type", "WordPiece");
        model.put("unk_token", "[UNK]");
        model.put("continuing_subword_prefix", "##");
        model.put("max_input_chars_per_word", 100);
        ObjectNode v = model.putObject("vocab");
        for (int i = 0; i < vocab.size(); i++) v.put(vocab.get(i), i);
        try {
            return new ObjectMapper().writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void special(ArrayNode template, String token, int typeId) {
        template.addObject().putObject("SpecialToken").put("id", token).put("type_id", typeId);
    }

    private static void sequence(ArrayNode template, String id, int typeId) {
        template.addObject().putObject("Sequence").put("id", id).put("type_id", typeId);
    }
}
