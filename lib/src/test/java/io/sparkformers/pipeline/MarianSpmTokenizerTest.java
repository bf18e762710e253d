package io.sparkformers.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.Json;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A Marian checkpoint with Marian's own tokenizer files (source.spm, target.spm, vocab.json with ">>de<<" / ">>fr<<"
 * target codes) converted once to tokenizer.json by convert_marian_tokenizer.py (make_marian_tokenizer_references.py):
 * the ids of texts with and without a leading language code equal MarianTokenizer's, and the translation pipeline's
 * texts equal transformers 4.57.6's (slow MarianTokenizer, beams from generation_config.json).
 */
class MarianSpmTokenizerTest {

    @Test
    void convertedTokenizerEncodesAndTranslatesAsMarianTokenizer() throws Exception {
        System.setProperty("ai.djl.offline", "true");
        Path dir = Path.of(MarianSpmTokenizerTest.class
                .getResource("/seq2seq/marian-spm-tiny")
                .toURI());
        JsonNode refs = Json.MAPPER.readTree(
                dir.resolveSibling("marian_spm_references.json").toFile());
        try (var p = (Text2TextGenerationPipeline) Pipelines.create("translation", dir, PipelineOptions.defaults())) {
            assertEquals("", p.prefix());
            for (int i = 0; i < refs.get("texts").size(); i++) {
                String text = refs.get("texts").get(i).asText();
                long[] want = new long[refs.get("input_ids").get(i).size()];
                for (int j = 0; j < want.length; j++)
                    want[j] = refs.get("input_ids").get(i).get(j).asLong();
                assertArrayEquals(want, p.sourceIds(text), text);
                JsonNode got = p.predictHf(PipelineInput.texts(List.of(text)));
                assertEquals(refs.get("translation").get(i), got, text);
            }
        }
    }
}
