package io.sparkformers.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * output_hidden_states and output_attentions of the feature-extraction pipeline (so of the encoders' forward,
 * {@code EncoderOutputs.Source#predictOutputs}) equal HF's: the real bert-base-uncased and all-MiniLM-L6-v2, and seeded
 * tiny DistilBERT and RoBERTa checkpoints, each case's texts run as one padded batch (HF's references are one call
 * per text). Each option alone returns only what it asks for, and the last hidden state is the last of the hidden
 * states.
 */
class EncoderOutputsParityTest {

    @TestFactory
    Stream<DynamicTest> hiddenStatesAndAttentionsEqualTransformers() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : EncoderOutputReferences.cases()) {
            tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> check(c)));
        }
        return tests.stream();
    }

    private static void check(JsonNode c) throws Exception {
        String name = c.get("name").asText();
        List<PipelineInput> inputs = PipelineInput.texts(EncoderOutputReferences.inputs(c));
        PipelineOptions both = PipelineOptions.builder()
                .outputHiddenStates(true)
                .outputAttentions(true)
                .build();
        try (var p = (FeatureExtractionPipeline)
                Pipelines.create("feature-extraction", EncoderOutputReferences.checkpoint(c), both)) {
            List<FeatureExtractionPipeline.Outputs> out = p.outputs(inputs);
            assertEquals(inputs.size(), out.size());
            for (int i = 0; i < out.size(); i++) {
                var o = out.get(i);
                EncoderOutputReferences.assertMatches(
                        name + " input " + i, c.get("expected").get(i), o.hiddenStates(), o.attentions());
                float[][] last = o.hiddenStates()[o.hiddenStates().length - 1];
                for (int t = 0; t < last.length; t++) assertArrayEquals(last[t], o.lastHiddenState()[t]);
            }
        }
        // one option at a time: the other stays null
        try (var p = (FeatureExtractionPipeline) Pipelines.create(
                "feature-extraction",
                EncoderOutputReferences.checkpoint(c),
                PipelineOptions.builder().outputAttentions(true).build())) {
            var o = p.outputs(inputs.subList(0, 1)).get(0);
            assertNull(o.hiddenStates());
            EncoderOutputReferences.assertMatches(
                    name + " input 0", c.get("expected").get(0), null, o.attentions());
        }
    }
}
