package io.sparkformers.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.generation.GenerationReferences;
import io.sparkformers.hub.Json;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** pipeline("text-generation") on the tiny GPT-2: HF's texts for a left-padded batch, HF's output shape. */
class TextGenerationPipelineTest {

    static {
        System.setProperty("ai.djl.offline", "true");
    }

    @Test
    void batchOfPromptsGivesTransformersTextsWithThePromptFirst() throws Exception {
        JsonNode ref = GenerationReferences.namedCase("generate", "greedy_batch");
        List<String> prompts = new ArrayList<>();
        ref.get("prompts").forEach(p -> prompts.add(p.asText()));
        PipelineOptions options = PipelineOptions.builder()
                .batchSize(3)
                .generateKwargs(Json.MAPPER.createObjectNode().put("max_new_tokens", 12))
                .build();
        try (Pipeline<?> p = Pipelines.create("text-generation", GenerationReferences.gpt2Tiny(), options)) {
            JsonNode out = p.predictHf(PipelineInput.texts(prompts));
            for (int i = 0; i < prompts.size(); i++) {
                assertEquals(1, out.get(i).size());
                assertEquals(
                        ref.get("texts").get(i).asText(),
                        out.get(i).get(0).get("generated_text").asText(),
                        "row " + i);
            }
        }
    }

    @Test
    void returnFullTextFalseGivesOnlyTheContinuationAndBeamsReturnSeveral() throws Exception {
        JsonNode ref = GenerationReferences.namedCase("generate", "beam");
        String prompt = ref.get("prompts").get(0).asText();
        PipelineOptions options = PipelineOptions.builder()
                .generateKwargs(((com.fasterxml.jackson.databind.node.ObjectNode)
                                ref.get("options").deepCopy())
                        .put("return_full_text", false))
                .build();
        try (Pipeline<?> p = Pipelines.create("text-generation", GenerationReferences.gpt2Tiny(), options)) {
            JsonNode out = p.predictHf(PipelineInput.texts(List.of(prompt)));
            assertEquals(2, out.size());
            for (int j = 0; j < 2; j++) {
                String full = ref.get("texts").get(j).asText();
                assertEquals(
                        full.substring(prompt.length()),
                        out.get(j).get("generated_text").asText());
            }
        }
    }
}
