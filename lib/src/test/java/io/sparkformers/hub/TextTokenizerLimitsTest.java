package io.sparkformers.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Texts far longer than the model are truncated to maxLength, whatever the tokenizer config's own limit, in memory
 * linear in the text: single texts and pairs.
 */
class TextTokenizerLimitsTest {
    @TempDir
    Path tmp;

    private static final String WORD_PIECE = """
            {"version": "1.0", "truncation": null, "padding": null, "added_tokens": [
              {"id": 0, "content": "[PAD]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
              {"id": 1, "content": "[UNK]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
              {"id": 2, "content": "[CLS]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
              {"id": 3, "content": "[SEP]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
              {"id": 4, "content": "[MASK]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
             "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                            "strip_accents": null, "lowercase": true},
             "pre_tokenizer": {"type": "BertPreTokenizer"},
             "post_processor": {"type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                           {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                         {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                         {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
                "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                                   "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
             "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
             "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                       "max_input_chars_per_word": 100,
                       "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4, "hello": 5, "world": 6}}}
            """;

    @Test
    void aOneMegabyteTextWithDefaultSettingsIsTruncatedToMaxLengthEvenWhenTheTokenizerHasNoLimit() throws Exception {
        Path json = Files.writeString(tmp.resolve("tokenizer.json"), WORD_PIECE);
        String megabyte = "hello world ".repeat((1 << 20) / 12);
        // model_max_length absent (HF's "no limit" sentinel): the stage's maxLength (default 512) still applies
        TokenizerConfig unbounded = TokenizerConfig.bertUncased(TokenizerConfig.UNBOUNDED);
        try (TextTokenizer t = TextTokenizer.load(json, unbounded, 512)) {
            long[] ids = t.encode(megabyte).getIds();
            assertEquals(512, ids.length);
            assertEquals(2, ids[0]);
            assertEquals(3, ids[511]);
            // a pair: before, HF tokenizers' overflow of both segments grew with the product of their lengths (two
            // 64 KB texts 700 MB of native memory; two 1 MB texts had the JVM killed at 20 GB)
            assertEquals(512, t.encode(megabyte, megabyte).getIds().length);
            TokenBatch batch = t.encodeBatch(List.of(megabyte, "hello"), null);
            assertEquals(2 * 512, batch.inputIds().length);
        }
    }

    @Test
    void clippingLongPairsBeforeTruncationKeepsExactlyTheTokensOfTheWholeTexts() throws Exception {
        Path json = Files.writeString(tmp.resolve("tokenizer.json"), WORD_PIECE);
        String first = "hello world ".repeat(1500);
        String second = "world, hello! héllo ".repeat(900);
        try (TextTokenizer t = TextTokenizer.load(json, TokenizerConfig.bertUncased(512), 128);
                HuggingFaceTokenizer whole = HuggingFaceTokenizer.builder()
                        .optTokenizerPath(json)
                        .optAddSpecialTokens(true)
                        .optTruncation(true)
                        .optMaxLength(128)
                        .optPadding(false)
                        .build()) {
            for (String[] pair :
                    new String[][] {{first, second}, {second, first}, {"hello", second}, {first, "x"}, {first, first}
                    }) {
                Encoding clipped = t.encode(pair[0], pair[1]);
                Encoding expected = whole.encode(pair[0], pair[1]);
                assertArrayEquals(expected.getIds(), clipped.getIds());
                assertArrayEquals(expected.getTypeIds(), clipped.getTypeIds());
            }
        }
    }
}
