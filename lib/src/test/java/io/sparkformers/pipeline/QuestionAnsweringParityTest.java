package io.sparkformers.pipeline;

import static io.sparkformers.pipeline.QaReferences.codePoints;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.sparkformers.pipeline.QuestionAnsweringPipeline.Answer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code pipeline("question-answering")} parity with Python transformers 4.57.6 on the same checkpoint folder
 * ({@link QaReferences}). Every case compares every answer field: the answer text and its start/end exactly (HF counts
 * code points, we UTF-16 units: converted here), the score within 1e-4 relative. Cases cover top_k up to 25, contexts
 * over up to 69 windows with default and small max_seq_len/doc_stride (stride 0 included), max_answer_len,
 * handle_impossible_answer, accents, emoji and CJK, repeated answer texts, a question that leaves fewer than
 * doc_stride tokens of a window to a context that fits, a question longer than 64 tokens, and several inputs in one
 * call (their windows share padded batches).
 */
class QuestionAnsweringParityTest {
    @TempDir
    static Path tmp;

    static Path checkpoint;

    @BeforeAll
    static void assemble() throws Exception {
        checkpoint = QaReferences.checkpoint(tmp.resolve("qa"));
    }

    @TestFactory
    Stream<DynamicTest> answersEqualTransformers() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : QaReferences.cases()) {
            tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> check(c)));
        }
        return tests.stream();
    }

    private static void check(JsonNode c) throws Exception {
        String name = c.get("name").asText();
        List<PipelineInput> inputs = new ArrayList<>();
        for (JsonNode in : c.get("inputs")) {
            inputs.add(PipelineInput.qa(
                    in.get("question").asText(), in.get("context").asText()));
        }
        List<List<Answer>> actual;
        try (var p = (QuestionAnsweringPipeline)
                Pipelines.create("question-answering", checkpoint, QaReferences.options(c))) {
            actual = p.predict(inputs);
        }
        for (int i = 0; i < inputs.size(); i++) {
            String context = inputs.get(i).context();
            ArrayNode expected = (ArrayNode) c.get("expected").get(i);
            List<Answer> got = actual.get(i);
            String where = name + " input " + i + ": expected " + expected + "\n but got " + got;
            assertEquals(expected.size(), got.size(), "answer count; " + where);
            for (int k = 0; k < expected.size(); k++) {
                JsonNode e = expected.get(k);
                Answer a = got.get(k);
                String at = "answer " + k + " of " + where;
                assertEquals(e.get("answer").asText(), a.answer(), "text; " + at);
                assertEquals(e.get("start").asInt(), codePoints(context, a.start()), "start; " + at);
                assertEquals(e.get("end").asInt(), codePoints(context, a.end()), "end; " + at);
                double want = e.get("score").asDouble();
                double diff = Math.abs(a.score() - want);
                assertTrue(diff <= 1e-4 * Math.abs(want) + 1e-12, "score |diff| " + diff + "; " + at);
            }
        }
    }
}
