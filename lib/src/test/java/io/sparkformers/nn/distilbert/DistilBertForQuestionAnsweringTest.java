package io.sparkformers.nn.distilbert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.AutoModels;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import io.sparkformers.pipeline.PipelineInput;
import io.sparkformers.pipeline.PipelineOptions;
import io.sparkformers.pipeline.Pipelines;
import io.sparkformers.pipeline.QuestionAnsweringPipeline;
import io.sparkformers.pipeline.QuestionAnsweringPipeline.Answer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * DistilBertForQuestionAnswering (issue #19) against transformers 4.57.6 on a seeded tiny DistilBERT
 * (lib/src/test/python/make_head_references.py): start/end logits on a padded batch and HF's loss, weights loaded
 * strictly from HF's key names, and the question-answering pipeline's answers on it.
 */
class DistilBertForQuestionAnsweringTest {

    static Path resource(String name) throws Exception {
        return Path.of(DistilBertForQuestionAnsweringTest.class
                .getResource("/heads/" + name)
                .toURI());
    }

    static long[][] longRows(JsonNode rows) {
        long[][] out = new long[rows.size()][];
        for (int r = 0; r < rows.size(); r++) {
            out[r] = new long[rows.get(r).size()];
            for (int t = 0; t < out[r].length; t++)
                out[r][t] = rows.get(r).get(t).asLong();
        }
        return out;
    }

    static float[] floats(JsonNode rows) {
        int n = 0;
        for (JsonNode r : rows) n += r.size();
        float[] out = new float[n];
        int i = 0;
        for (JsonNode r : rows) for (JsonNode v : r) out[i++] = (float) v.asDouble();
        return out;
    }

    static double maxAbsDiff(float[] a, float[] b) {
        assertEquals(b.length, a.length);
        double d = 0;
        for (int i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
        return d;
    }

    @Test
    void startEndLogitsAndLossMatchTransformers() throws Exception {
        JsonNode ref =
                Json.MAPPER.readTree(resource("references.json").toFile()).get("distilbert_qa");
        try (HfModel model = HfModel.fromPretrained(resource("distilbert-qa"), Task.QUESTION_ANSWERING);
                NDManager m = NDManager.newBaseManager()) {
            DistilBertForQuestionAnswering qa = assertInstanceOf(DistilBertForQuestionAnswering.class, model.block());
            assertTrue(
                    model.loadReport().newlyInitialized().isEmpty(),
                    model.loadReport().toString());
            NDList out = model.predict(new NDList(
                    m.create(longRows(ref.get("input_ids"))), m.create(longRows(ref.get("attention_mask")))));
            assertEquals(2, out.size());
            float[] start = out.get(0).toFloatArray();
            float[] end = out.get(1).toFloatArray();
            double ds = maxAbsDiff(start, floats(ref.get("start_logits")));
            double de = maxAbsDiff(end, floats(ref.get("end_logits")));
            assertTrue(ds < 1e-4, "start_logits max |diff| = " + ds);
            assertTrue(de < 1e-4, "end_logits max |diff| = " + de);
            NDArray loss = qa.loss(
                    out.get(0),
                    out.get(1),
                    m.create(longs(ref.get("start_positions"))),
                    m.create(longs(ref.get("end_positions"))));
            double expected = ref.get("loss").asDouble();
            assertEquals(expected, loss.getFloat(), 1e-4 * Math.abs(expected), "HF's QA loss");
        }
    }

    private static long[] longs(JsonNode a) {
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asLong();
        return out;
    }

    @Test
    void theQuestionAnsweringPipelineAnswersAsTransformersOnDistilBert() throws Exception {
        JsonNode ref = Json.MAPPER
                .readTree(resource("references.json").toFile())
                .get("distilbert_qa")
                .get("pipeline");
        List<PipelineInput> inputs = new ArrayList<>();
        for (JsonNode in : ref.get("inputs")) {
            inputs.add(PipelineInput.qa(
                    in.get("question").asText(), in.get("context").asText()));
        }
        JsonNode o = ref.get("options");
        PipelineOptions options = PipelineOptions.builder()
                .topK(o.get("top_k").asInt())
                .maxSeqLen(o.get("max_seq_len").asInt())
                .docStride(o.get("doc_stride").asInt())
                .build();
        List<List<Answer>> actual;
        try (var p = (QuestionAnsweringPipeline)
                Pipelines.create("question-answering", resource("distilbert-qa"), options)) {
            actual = p.predict(inputs);
        }
        for (int i = 0; i < inputs.size(); i++) {
            JsonNode expected = ref.get("expected").get(i);
            String where = "input " + i + ": expected " + expected + "\n but got " + actual.get(i);
            assertEquals(expected.size(), actual.get(i).size(), where);
            for (int k = 0; k < expected.size(); k++) {
                JsonNode e = expected.get(k);
                Answer a = actual.get(i).get(k);
                assertEquals(e.get("answer").asText(), a.answer(), where);
                // the contexts are ASCII: Python's code-point offsets are Java's UTF-16 ones
                assertEquals(e.get("start").asInt(), a.start(), where);
                assertEquals(e.get("end").asInt(), a.end(), where);
                double want = e.get("score").asDouble();
                assertEquals(want, a.score(), 1e-4 * want, "score; " + where);
            }
        }
    }

    @Test
    void autoModelsPicksTheDistilBertQaHeadAndRefusesOtherLabelCounts() throws Exception {
        ObjectNode config = (ObjectNode)
                Json.MAPPER.readTree(resource("distilbert-qa/config.json").toFile());
        assertInstanceOf(DistilBertForQuestionAnswering.class, AutoModels.fromConfig(config, Task.QUESTION_ANSWERING));
        config.putObject("id2label").put("0", "a").put("1", "b").put("2", "c");
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> AutoModels.fromConfig(config, Task.QUESTION_ANSWERING));
        assertEquals("question answering needs num_labels 2 (start, end) but config has 3", e.getMessage());
    }
}
