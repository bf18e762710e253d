package io.sparkformers.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.generation.GenerationConfig;
import io.sparkformers.hub.Json;
import org.junit.jupiter.api.Test;

/** Options that would allocate without bound are refused when the options are built, naming the option. */
class PipelineLimitsTest {

    @Test
    void aGiganticBatchSizeIsRefusedNamingTheOption() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> PipelineOptions.builder().batchSize(1 << 30).build());
        assertEquals(
                "batch_size must be <= 4096 (inputs per forward pass; a batch's activations grow with it), got "
                        + "1073741824",
                e.getMessage());
        assertEquals(4096, PipelineOptions.builder().batchSize(4096).build().batchSize());
    }

    private static IllegalArgumentException generation(String key, int value) {
        ObjectNode kw = Json.MAPPER.createObjectNode().put(key, value).put("do_sample", true);
        return assertThrows(IllegalArgumentException.class, () -> GenerationConfig.fromJson(kw));
    }

    @Test
    void generationOptionsThatExpandEveryPromptWithoutBoundAreRefused() {
        assertEquals(
                "num_return_sequences must be <= 256 (each sequence holds its own key/value cache) but was 1000000",
                generation("num_return_sequences", 1_000_000).getMessage());
        assertEquals(
                "max_new_tokens must be <= 1048576 but was 2147483647",
                generation("max_new_tokens", Integer.MAX_VALUE).getMessage());
        assertEquals(
                "max_length must be <= 1048576 but was 2000000000",
                generation("max_length", 2_000_000_000).getMessage());
    }
}
