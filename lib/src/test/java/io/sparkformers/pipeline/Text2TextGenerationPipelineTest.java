package io.sparkformers.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * summarization, translation_xx_to_yy and text2text-generation against transformers 4.57.6's pipelines on the tiny
 * BART and T5 checkpoints (resources/seq2seq): the same texts for the same inputs and call options, the checkpoint's
 * generation_config.json, the pipelines' defaults (num_beams 4) and T5's task_specific_params (prefixes, beams,
 * lengths) applied as HF applies them.
 */
class Text2TextGenerationPipelineTest {

    static Path dir(String name) throws Exception {
        return Path.of(Text2TextGenerationPipelineTest.class
                .getResource("/seq2seq/" + name)
                .toURI());
    }

    @Test
    void pipelinesMatchTransformers() throws Exception {
        System.setProperty("ai.djl.offline", "true");
        JsonNode refs = Json.MAPPER.readTree(dir("references.json").toFile()).get("pipelines");
        String[] folders = {"bart-tiny", "bart-tiny", "t5-tiny", "t5-tiny", "t5-v11-tiny"};
        assertEquals(folders.length, refs.size());
        for (int c = 0; c < folders.length; c++) {
            JsonNode ref = refs.get(c);
            String task = ref.get("task").asText();
            PipelineOptions options = PipelineOptions.builder()
                    .generateKwargs((ObjectNode) ref.get("kwargs"))
                    .build();
            List<String> texts = new ArrayList<>();
            ref.get("texts").forEach(t -> texts.add(t.asText()));
            try (Pipeline<?> p = Pipelines.create(task, dir(folders[c]), options)) {
                for (int i = 0; i < texts.size(); i++) {
                    JsonNode out = p.predictHf(PipelineInput.texts(List.of(texts.get(i))));
                    assertEquals(ref.get("outputs").get(i), out, folders[c] + " " + task + " input " + i);
                }
            }
        }
    }

    @Test
    void t5TaskPrefixesComeFromTaskSpecificParams() throws Exception {
        try (var p = (Text2TextGenerationPipeline)
                Pipelines.create("translation_en_to_de", dir("t5-tiny"), PipelineOptions.defaults())) {
            assertEquals("translate English to German: ", p.prefix());
            assertEquals(4, p.generationConfig().numBeams());
            assertEquals(16, p.generationConfig().maxLength());
            assertTrue(p.generationConfig().maxNewTokens() == null);
        }
    }
}
