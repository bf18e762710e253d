package io.sparkformers.pipeline;

import static org.junit.jupiter.api.Assertions.*;

import io.sparkformers.convert.BuiltinModels;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** fill-mask on the real Google BERT-Base uncased weights (imported from the TF checkpoint jar). */
class FillMaskPipelineTest {
    static FillMaskPipeline pipeline;

    @BeforeAll
    static void load() throws Exception {
        HfModel model =
                HfModel.fromPretrained(BuiltinModels.resolve(BuiltinModels.get("bert-base-uncased")), Task.MASKED_LM);
        assertTrue(
                model.loadReport().missing().isEmpty()
                        && model.loadReport().newlyInitialized().isEmpty(),
                "the MLM head must come from the checkpoint: "
                        + model.loadReport().describe());
        pipeline = new FillMaskPipeline(model, model.tokenizer(512));
    }

    @AfterAll
    static void close() {
        pipeline.close();
    }

    @Test
    void capitalOfFranceIsParis() {
        List<FillMaskPipeline.Candidate> top = pipeline.fill(List.of("The capital of France is [MASK]."), 5, null)
                .get(0)
                .get(0);
        assertEquals(5, top.size());
        assertEquals("paris", top.get(0).tokenStr(), top.toString());
        assertEquals("the capital of france is paris.", top.get(0).sequence());
        for (int i = 1; i < top.size(); i++)
            assertTrue(top.get(i - 1).score() >= top.get(i).score(), "sorted by score");
        assertTrue(
                top.get(0).score() > 0.2 && top.get(0).score() < 1,
                "a probability: " + top.get(0).score());
    }

    /** The published example of the bert-base-uncased model card (scores of HF transformers in PyTorch). */
    @Test
    void matchesTheModelCardExample() {
        List<FillMaskPipeline.Candidate> top = pipeline.fill(List.of("Hello I'm a [MASK] model."), 5, null)
                .get(0)
                .get(0);
        List<String> words = List.of("fashion", "role", "new", "super", "fine");
        double[] scores = {
            0.1073106899857521, 0.08774490654468536, 0.05338378623127937, 0.04667217284440994, 0.027095865458250046
        };
        long[] ids = {4827, 2535, 2047, 3565, 2986};
        for (int i = 0; i < 5; i++) {
            assertEquals(words.get(i), top.get(i).tokenStr());
            assertEquals(ids[i], top.get(i).token());
            assertEquals(scores[i], top.get(i).score(), 1e-4, "score of " + words.get(i));
        }
        assertEquals("hello i'm a fashion model.", top.get(0).sequence());
    }

    @Test
    void targetsRestrictTheCandidatesAndKeepFullVocabularyProbabilities() {
        List<FillMaskPipeline.Candidate> all = pipeline.fill(List.of("The capital of France is [MASK]."), 50, null)
                .get(0)
                .get(0);
        List<FillMaskPipeline.Candidate> targeted = pipeline.fill(
                        List.of("The capital of France is [MASK]."), 2, List.of("london", "paris"))
                .get(0)
                .get(0);
        assertEquals(
                List.of("paris", "london"),
                targeted.stream().map(FillMaskPipeline.Candidate::tokenStr).toList());
        double parisScore = all.stream()
                .filter(c -> c.tokenStr().equals("paris"))
                .findFirst()
                .orElseThrow()
                .score();
        assertEquals(
                parisScore, targeted.get(0).score(), 1e-6, "a target's score is its softmax over the whole vocabulary");
    }

    @Test
    void batchedTextsWithSeveralMasksGiveOneListPerMask() {
        var out =
                pipeline.fill(List.of("Paris is the [MASK] of France.", "I [MASK] to the [MASK] yesterday."), 3, null);
        assertEquals(1, out.get(0).size());
        assertEquals(2, out.get(1).size());
        assertEquals("capital", out.get(0).get(0).get(0).tokenStr());
    }

    @Test
    void textWithoutMaskIsAnErrorNamingTheText() {
        var e = assertThrows(
                IllegalArgumentException.class, () -> pipeline.fill(List.of("ok [MASK]", "no mask here"), 5, null));
        assertTrue(e.getMessage().contains("text 1") && e.getMessage().contains("no mask here"), e.getMessage());
    }
}
