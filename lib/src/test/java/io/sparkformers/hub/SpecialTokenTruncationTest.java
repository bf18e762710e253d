package io.sparkformers.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link SpecialTokenTruncation} cuts as HF's {@code tokenizer(text, truncation=True[, max_length=20])} does on the
 * BART (&lt;s&gt; … &lt;/s&gt;), T5 and Marian (… &lt;/s&gt;) tokenizers of the seq2seq fixtures
 * (resources/seq2seq-training/references.json, make_seq2seq_training_references.py).
 */
class SpecialTokenTruncationTest {

    static {
        System.setProperty("ai.djl.offline", "true");
    }

    @ParameterizedTest
    @ValueSource(strings = {"bart-tiny", "t5-tiny", "marian-tiny"})
    void cutsTheTextAndKeepsTheSpecialTokensAsTransformers(String name) throws Exception {
        JsonNode ref = Json.readObject(Path.of("src/test/resources/seq2seq-training/references.json"))
                .get("models")
                .get(name);
        Path dir = Path.of("src/test/resources/seq2seq").resolve(name);
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.builder()
                .optTokenizerPath(dir.resolve("tokenizer.json"))
                .optAddSpecialTokens(true)
                .optTruncation(false)
                .optPadding(false)
                .build()) {
            long[] ids = tok.encode(ref.get("long_text").asText()).getIds();
            assertArrayEquals(longs(ref.get("long_ids")), ids, name + " untruncated");
            SpecialTokenTruncation cut = SpecialTokenTruncation.of(tok);
            assertArrayEquals(longs(ref.get("truncated_ids")), cut.truncate(ids, 64), name + " model_max_length 64");
            assertArrayEquals(longs(ref.get("truncated_ids_20")), cut.truncate(ids, 20), name + " max_length 20");
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> cut.truncate(ids, cut.specialCount()));
            assertTrue(e.getMessage().contains("no room for text"), e.getMessage());
        }
    }

    private static long[] longs(JsonNode a) {
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asLong();
        return out;
    }
}
