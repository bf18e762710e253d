package io.sparkformers.nn.bart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import io.sparkformers.pipeline.Pipeline;
import io.sparkformers.pipeline.PipelineInput;
import io.sparkformers.pipeline.PipelineOptions;
import io.sparkformers.pipeline.Pipelines;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * BartForSequenceClassification against transformers 4.57.6 on the seeded tiny NLI checkpoint bart-nli-tiny
 * (make_seq2seq_references.py … bart-nli): logits of a right-padded batch of text pairs within 1e-4 (eos pooling
 * over the shifted-right decoder), and the zero-shot-classification (single and multi-label) and text-classification
 * pipelines' labels in HF's order with scores within 1e-4.
 */
class BartForSequenceClassificationParityTest {
    static final double TOL = 1e-4;
    static Path dir;
    static JsonNode refs;

    @BeforeAll
    static void load() throws Exception {
        System.setProperty("ai.djl.offline", "true");
        dir = Path.of(BartForSequenceClassificationParityTest.class
                .getResource("/seq2seq/bart-nli-tiny")
                .toURI());
        refs = Json.MAPPER.readTree(
                dir.resolveSibling("bart_nli_references.json").toFile());
    }

    private static long[][] ids() {
        JsonNode rows = refs.get("input_ids");
        long[][] ids = new long[rows.size()][rows.get(0).size()];
        for (int i = 0; i < ids.length; i++)
            for (int j = 0; j < ids[i].length; j++)
                ids[i][j] = rows.get(i).get(j).asLong();
        return ids;
    }

    @Test
    void logitsOfAPaddedPairBatchEqualTransformers() throws Exception {
        long[][] ids = ids();
        long[][] mask = new long[ids.length][ids[0].length];
        for (int i = 0; i < ids.length; i++)
            for (int j = 0; j < ids[i].length; j++) mask[i][j] = ids[i][j] == 1 ? 0 : 1;
        try (HfModel model =
                        HfModel.fromPretrained(HfCheckpoint.open(dir), Task.SEQUENCE_CLASSIFICATION, Device.cpu());
                NDManager scope = model.manager().newSubManager()) {
            assertTrue(model.block() instanceof BartForSequenceClassification);
            float[] logits = model.predict(new NDList(scope.create(ids), scope.create(mask)))
                    .head()
                    .toFloatArray();
            JsonNode want = refs.get("logits");
            assertEquals(want.size(), logits.length);
            double worst = 0;
            for (int i = 0; i < logits.length; i++)
                worst = Math.max(worst, Math.abs(logits[i] - want.get(i).asDouble()));
            assertTrue(worst <= TOL, "max |diff| = " + worst);
        }
    }

    @Test
    void rowsWithDifferentEosCountsFailAsInTransformers() throws Exception {
        long[][] ids = {{0, 56, 2, 2, 76, 2}, {0, 56, 76, 2, 1, 1}};
        try (HfModel model =
                        HfModel.fromPretrained(HfCheckpoint.open(dir), Task.SEQUENCE_CLASSIFICATION, Device.cpu());
                NDManager scope = model.manager().newSubManager()) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> model.predict(new NDList(scope.create(ids))));
            assertEquals(
                    "All examples must have the same number of <eos> tokens (token id 2), got [3, 1] per row",
                    e.getMessage());
        }
    }

    @Test
    void zeroShotClassificationEqualsTransformers() throws Exception {
        JsonNode zs = refs.get("zero_shot");
        List<String> candidates = new ArrayList<>();
        zs.get("candidate_labels").forEach(c -> candidates.add(c.asText()));
        for (boolean multi : new boolean[] {false, true}) {
            PipelineOptions o = PipelineOptions.builder()
                    .candidateLabels(candidates)
                    .multiLabel(multi)
                    .build();
            JsonNode want = zs.get(multi ? "multi" : "single");
            try (Pipeline<?> p = Pipelines.create("zero-shot-classification", dir, o)) {
                for (int i = 0; i < want.size(); i++) {
                    String text = want.get(i).get("sequence").asText();
                    JsonNode got = p.predictHf(PipelineInput.texts(List.of(text)));
                    got = got.isArray() ? got.get(0) : got;
                    assertEquals(want.get(i).get("labels"), got.get("labels"), "multi " + multi + " row " + i);
                    assertClose(want.get(i).get("scores"), got.get("scores"), "multi " + multi + " row " + i);
                }
            }
        }
    }

    @Test
    void textClassificationEqualsTransformers() throws Exception {
        JsonNode want = refs.get("text_classification");
        PipelineOptions o = PipelineOptions.builder().topK(PipelineOptions.ALL).build();
        try (Pipeline<?> p = Pipelines.create("text-classification", dir, o)) {
            for (int i = 0; i < want.size(); i++) {
                JsonNode got = p.predictHf(
                        PipelineInput.texts(List.of(refs.get("premises").get(i).asText())));
                got = got.get(0).isArray() ? got.get(0) : got;
                for (int k = 0; k < want.get(i).size(); k++) {
                    assertEquals(want.get(i).get(k).get("label"), got.get(k).get("label"), "row " + i + " rank " + k);
                    double d = Math.abs(want.get(i).get(k).get("score").asDouble()
                            - got.get(k).get("score").asDouble());
                    assertTrue(d <= TOL, "row " + i + " rank " + k + " |diff| = " + d);
                }
            }
        }
    }

    private static void assertClose(JsonNode want, JsonNode got, String what) {
        assertEquals(want.size(), got.size(), what);
        for (int i = 0; i < want.size(); i++) {
            double d = Math.abs(want.get(i).asDouble() - got.get(i).asDouble());
            assertTrue(d <= TOL, what + " score " + i + " |diff| = " + d);
        }
    }
}
