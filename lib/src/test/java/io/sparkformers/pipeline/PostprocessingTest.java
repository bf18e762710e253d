package io.sparkformers.pipeline;

import static org.junit.jupiter.api.Assertions.*;

import io.sparkformers.pipeline.QuestionAnsweringPipeline.Answer;
import io.sparkformers.pipeline.QuestionAnsweringPipeline.Span;
import io.sparkformers.pipeline.QuestionAnsweringPipeline.WindowSpans;
import io.sparkformers.pipeline.TextClassificationPipeline.ClassificationFunction;
import io.sparkformers.pipeline.TextClassificationPipeline.LabelScore;
import io.sparkformers.pipeline.TokenClassificationPipeline.AggregationStrategy;
import io.sparkformers.pipeline.TokenClassificationPipeline.Entity;
import io.sparkformers.pipeline.TokenClassificationPipeline.PreEntity;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The post-processing of every head, checked on hand-written logits, offsets and scores against outputs worked out
 * by hand from HF's algorithms (the way HF's own pipeline tests check aggregation and span decoding).
 */
class PostprocessingTest {

    private static final double EPS = 1e-9;

    // ---------------------------------------------------------------- text classification

    @Test
    void defaultFunctionFollowsHfRuleInHfOrder() {
        assertEquals(ClassificationFunction.NONE, TextClassificationPipeline.defaultFunction("regression", 1));
        assertEquals(ClassificationFunction.NONE, TextClassificationPipeline.defaultFunction("regression", 3));
        assertEquals(
                ClassificationFunction.SIGMOID,
                TextClassificationPipeline.defaultFunction("multi_label_classification", 3));
        assertEquals(ClassificationFunction.SIGMOID, TextClassificationPipeline.defaultFunction(null, 1));
        assertEquals(
                ClassificationFunction.SIGMOID,
                TextClassificationPipeline.defaultFunction("single_label_classification", 1));
        assertEquals(
                ClassificationFunction.SOFTMAX,
                TextClassificationPipeline.defaultFunction("single_label_classification", 2));
        assertEquals(ClassificationFunction.SOFTMAX, TextClassificationPipeline.defaultFunction(null, 2));
    }

    @Test
    void classificationScoresAreSoftmaxSigmoidOrRawLogitsSortedAndCut() {
        float[] logits = {1f, 3f, 2f};
        List<String> labels = List.of("a", "b", "c");
        double z = Math.exp(1) + Math.exp(3) + Math.exp(2);
        List<LabelScore> all = TextClassificationPipeline.postprocess(
                logits, labels, ClassificationFunction.SOFTMAX, PipelineOptions.ALL);
        assertEquals(List.of("b", "c", "a"), all.stream().map(LabelScore::label).toList());
        assertEquals(Math.exp(3) / z, all.get(0).score(), EPS);
        assertEquals(Math.exp(1) / z, all.get(2).score(), EPS);

        List<LabelScore> legacy =
                TextClassificationPipeline.postprocess(logits, labels, ClassificationFunction.SIGMOID, null);
        assertEquals(1, legacy.size());
        assertEquals(new LabelScore("b", 1 / (1 + Math.exp(-3))), legacy.get(0));

        List<LabelScore> two = TextClassificationPipeline.postprocess(logits, labels, ClassificationFunction.NONE, 2);
        assertEquals(List.of(new LabelScore("b", 3), new LabelScore("c", 2)), two);
    }

    // ---------------------------------------------------------------- token classification

    private static final List<String> NER = List.of("O", "B-ORG", "I-ORG", "B-LOC", "I-LOC");

    private static double[] s(double... v) {
        return v;
    }

    /**
     * "Hugging Face moved to NYC" tokenised as hugging | face | moved | to | ny | ##c, with scores chosen so that
     * the strategies disagree on the split word "ny ##c".
     */
    private static List<PreEntity> pre() {
        return List.of(
                new PreEntity("hugging", s(0.1, 0.7, 0.1, 0.05, 0.05), 0, 7, 1, false),
                new PreEntity("face", s(0.1, 0.1, 0.6, 0.1, 0.1), 8, 12, 2, false),
                new PreEntity("moved", s(0.9, 0.025, 0.025, 0.025, 0.025), 13, 18, 3, false),
                new PreEntity("to", s(0.8, 0.05, 0.05, 0.05, 0.05), 19, 21, 4, false),
                new PreEntity("ny", s(0.1, 0.5, 0.0, 0.4, 0.0), 22, 24, 5, false),
                new PreEntity("##c", s(0.05, 0.0, 0.0, 0.95, 0.0), 24, 25, 6, true));
    }

    private static List<Entity> run(AggregationStrategy strategy) {
        return TokenClassificationPipeline.postprocess(
                pre(), NER, strategy, List.of("O"), TokenClassificationPipeline::wordPieceDecode);
    }

    @Test
    void aggregationNoneLabelsEveryTokenAndDropsO() {
        assertEquals(
                List.of(
                        new Entity("B-ORG", 0.7, 1, "hugging", 0, 7),
                        new Entity("I-ORG", 0.6, 2, "face", 8, 12),
                        new Entity("B-ORG", 0.5, 5, "ny", 22, 24),
                        new Entity("B-LOC", 0.95, 6, "##c", 24, 25)),
                run(AggregationStrategy.NONE));
    }

    @Test
    void aggregationSimpleGroupsAdjacentTagsButStartsAgainAtB() {
        // hugging(B-ORG) face(I-ORG) → ORG, mean 0.65; ny(B-ORG) and ##c(B-LOC) differ → two groups
        assertEquals(
                List.of(
                        new Entity("ORG", (0.7 + 0.6) / 2, -1, "hugging face", 0, 12),
                        new Entity("ORG", 0.5, -1, "ny", 22, 24),
                        new Entity("LOC", 0.95, -1, "##c", 24, 25)),
                run(AggregationStrategy.SIMPLE));
    }

    @Test
    void aggregationFirstTakesTheFirstTokensLabelForTheWholeWord() {
        assertEquals(
                List.of(
                        new Entity("ORG", (0.7 + 0.6) / 2, -1, "hugging face", 0, 12),
                        new Entity("ORG", 0.5, -1, "nyc", 22, 25)),
                run(AggregationStrategy.FIRST));
    }

    @Test
    void aggregationMaxTakesTheMostConfidentTokensLabel() {
        assertEquals(
                List.of(
                        new Entity("ORG", (0.7 + 0.6) / 2, -1, "hugging face", 0, 12),
                        new Entity("LOC", 0.95, -1, "nyc", 22, 25)),
                run(AggregationStrategy.MAX));
    }

    @Test
    void aggregationAverageTakesTheArgmaxOfMeanScores() {
        // ny ##c mean scores: O .075, B-ORG .25, I-ORG 0, B-LOC .675, I-LOC 0 → B-LOC .675
        List<Entity> out = run(AggregationStrategy.AVERAGE);
        assertEquals(2, out.size());
        assertEquals(new Entity("ORG", (0.7 + 0.6) / 2, -1, "hugging face", 0, 12), out.get(0));
        assertEquals("LOC", out.get(1).entity());
        assertEquals(0.675, out.get(1).score(), EPS);
        assertEquals("nyc", out.get(1).word());
        assertEquals(22, out.get(1).start());
        assertEquals(25, out.get(1).end());
    }

    @Test
    void ignoreLabelsFiltersGroupsByTheirTag() {
        List<Entity> out = TokenClassificationPipeline.postprocess(
                pre(),
                NER,
                AggregationStrategy.SIMPLE,
                List.of("O", "ORG"),
                TokenClassificationPipeline::wordPieceDecode);
        assertEquals(List.of("LOC"), out.stream().map(Entity::entity).toList());
        List<Entity> withO = TokenClassificationPipeline.postprocess(
                pre(), NER, AggregationStrategy.SIMPLE, List.of(), TokenClassificationPipeline::wordPieceDecode);
        assertEquals(
                List.of("ORG", "O", "ORG", "LOC"),
                withO.stream().map(Entity::entity).toList());
        assertEquals("moved to", withO.get(1).word());
    }

    @Test
    void labelsWithoutBioPrefixGroupLikeIAndKeepTheirName() {
        List<Entity> ents = List.of(
                new Entity("PER", 0.5, 1, "ann", 0, 3),
                new Entity("PER", 0.7, 2, "##e", 3, 4),
                new Entity("LOC", 0.9, 3, "paris", 5, 10));
        List<Entity> groups =
                TokenClassificationPipeline.groupEntities(ents, TokenClassificationPipeline::wordPieceDecode);
        assertEquals(
                List.of(new Entity("PER", 0.6, -1, "anne", 0, 4), new Entity("LOC", 0.9, -1, "paris", 5, 10)), groups);
    }

    @Test
    void gatherMarksWordPieceContinuationsAndUsesTheTextForUnknownTokens() {
        String text = "Zürich ☃x unbelievable";
        String[] tokens = {"[CLS]", "zurich", "[UNK]", "##x", "un", "##bel", "##ievable", "[SEP]"};
        long[] ids = {101, 1, 100, 2, 3, 4, 5, 102};
        int[][] offsets = {null, {0, 6}, {7, 8}, {8, 9}, {10, 12}, {12, 15}, {15, 22}, null};
        long[] special = {1, 0, 0, 0, 0, 0, 0, 1};
        double[][] scores = new double[8][];
        for (int i = 0; i < 8; i++) scores[i] = s(1);
        List<PreEntity> pre =
                TokenClassificationPipeline.gatherPreEntities(text, tokens, ids, offsets, special, scores, 100, true);
        assertEquals(
                List.of("zurich", "☃", "##x", "un", "##bel", "##ievable"),
                pre.stream().map(PreEntity::word).toList());
        assertEquals(
                List.of(false, false, true, false, true, true),
                pre.stream().map(PreEntity::isSubword).toList());
        assertEquals(
                List.of(1, 2, 3, 4, 5, 6), pre.stream().map(PreEntity::index).toList());
        // HF's fallback for tokenizers without a continuation marker: a sub-word has no space before it
        List<PreEntity> fallback =
                TokenClassificationPipeline.gatherPreEntities(text, tokens, ids, offsets, special, scores, 100, false);
        assertEquals(
                List.of(false, false, true, false, true, true),
                fallback.stream().map(PreEntity::isSubword).toList());
    }

    @Test
    void wordPieceDecodeGluesPiecesAndCleansPunctuation() {
        assertEquals(
                "new yorker, really?",
                TokenClassificationPipeline.wordPieceDecode(List.of("new", "york", "##er", ",", "really", "?")));
        assertEquals("##er x", TokenClassificationPipeline.wordPieceDecode(List.of("##er", "x")));
        assertEquals(" New York", TokenClassificationPipeline.byteLevelDecode(List.of("ĠNew", "ĠYork")));
    }

    // ---------------------------------------------------------------- question answering

    /** [CLS] who is ? [SEP] ann met bob today [SEP] : the question (1..4) and the separators may not answer. */
    private static final int[] P_MASK = {0, 1, 1, 1, 1, 0, 0, 0, 0, 1};

    private static double[] softmax(double... v) {
        double z = 0;
        for (double x : v) z += Math.exp(x);
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) out[i] = Math.exp(v[i]) / z;
        return out;
    }

    @Test
    void bestSpanMasksTheQuestionEvenWhenItScoresHighest() {
        // the highest start logit sits on a question token (index 2): it must not win
        float[] start = {0, 1, 9, 1, 1, 3, 1, 2, 0, 8};
        float[] end = {0, 1, 9, 1, 1, 1, 4, 2, 1, 8};
        WindowSpans w = QuestionAnsweringPipeline.selectSpans(start, end, P_MASK, 1, 15);
        // softmax over the unmasked tokens [CLS] ann met bob today (masked ones get -10000, exp ≈ 0)
        double[] ps = softmax(0, 3, 1, 2, 0);
        double[] pe = softmax(0, 1, 4, 2, 1);
        assertEquals(1, w.spans().size());
        assertEquals(5, w.spans().get(0).start());
        assertEquals(6, w.spans().get(0).end());
        assertEquals(ps[1] * pe[2], w.spans().get(0).score(), 1e-9);
        assertEquals(ps[0] * pe[0], w.nullScore(), 1e-9, "the null score is [CLS]'s start × end");
    }

    @Test
    void maxAnswerLenCutsLongerSpans() {
        // best unconstrained span is ann..today (5..8, 4 tokens)
        float[] start = {0, 0, 0, 0, 0, 5, 0, 0, 0, 0};
        float[] end = {0, 0, 0, 0, 0, 0, 0, 1, 5, 0};
        Span unconstrained = QuestionAnsweringPipeline.selectSpans(start, end, P_MASK, 1, 15)
                .spans()
                .get(0);
        assertEquals(List.of(5, 8), List.of(unconstrained.start(), unconstrained.end()));
        // max_answer_len 3 allows ann..bob (end 7) at most
        Span s = QuestionAnsweringPipeline.selectSpans(start, end, P_MASK, 1, 3)
                .spans()
                .get(0);
        assertEquals(5, s.start());
        assertEquals(7, s.end());
        double[] ps = softmax(0, 5, 0, 0, 0);
        double[] pe = softmax(0, 0, 0, 1, 5);
        assertEquals(ps[1] * pe[3], s.score(), 1e-9);
    }

    @Test
    void topKSpansComeBestFirstAndNeverEndBeforeTheyStart() {
        float[] start = {0, 0, 0, 0, 0, 2, 1, 0, 0, 0};
        float[] end = {0, 0, 0, 0, 0, 1, 2, 0, 0, 0};
        List<Span> spans =
                QuestionAnsweringPipeline.selectSpans(start, end, P_MASK, 3, 15).spans();
        double[] ps = softmax(0, 2, 1, 0, 0);
        double[] pe = softmax(0, 1, 2, 0, 0);
        // candidates: (5,6) ps1*pe2, (5,5) ps1*pe1, (6,6) ps2*pe2; (6,5) would end before its start
        assertEquals(List.of(5, 5, 6), spans.stream().map(Span::start).toList());
        assertEquals(List.of(6, 5, 6), spans.stream().map(Span::end).toList());
        assertEquals(ps[1] * pe[2], spans.get(0).score(), 1e-9);
        assertEquals(ps[1] * pe[1], spans.get(1).score(), 1e-9);
        assertEquals(ps[2] * pe[2], spans.get(2).score(), 1e-9);
    }

    @Test
    void impossibleAnswerScoreIsClsStartTimesEnd() {
        float[] start = {6, 0, 0, 0, 0, 1, 0, 0, 0, 0};
        float[] end = {6, 0, 0, 0, 0, 0, 1, 0, 0, 0};
        WindowSpans w = QuestionAnsweringPipeline.selectSpans(start, end, P_MASK, 1, 15);
        double[] ps = softmax(6, 1, 0, 0, 0);
        double[] pe = softmax(6, 0, 1, 0, 0);
        assertEquals(ps[0] * pe[0], w.nullScore(), 1e-9);
        assertTrue(w.nullScore() > w.spans().get(0).score(), "here 'no answer' beats every span");
        assertEquals(ps[1] * pe[2], w.spans().get(0).score(), 1e-9);
    }

    @Test
    void spansWithTheSameTextIgnoringCaseMergeIntoTheFirstAnswerWithTheSummedScore() {
        // HF's get_answer: windows overlap and word alignment widens different token spans to the same words
        String context = "Calder flows; the calder floods. Calder";
        List<Answer> answers = new ArrayList<>();
        Map<String, Integer> byText = new HashMap<>();
        QuestionAnsweringPipeline.merge(answers, byText, 0.25, 0, 6, context);
        QuestionAnsweringPipeline.merge(answers, byText, 0.125, 18, 24, context); // "calder", elsewhere
        QuestionAnsweringPipeline.merge(answers, byText, 0.5, 7, 12, context); // "flows"
        QuestionAnsweringPipeline.merge(answers, byText, 0.0625, 33, 39, context); // "Calder" again
        assertEquals(List.of(new Answer(0.4375, 0, 6, "Calder"), new Answer(0.5, 7, 12, "flows")), answers);
    }

    @Test
    void aSpanEndingBeforeItStartsAnswersTheEmptyString() {
        // Python's context[5:3] is "": HF keeps such score-0 cells when a window offers few spans
        List<Answer> answers = new ArrayList<>();
        QuestionAnsweringPipeline.merge(answers, new HashMap<>(), 0.0, 5, 3, "Ann met Bob.");
        assertEquals(List.of(new Answer(0.0, 5, 3, "")), answers);
    }

    // ---------------------------------------------------------------- zero-shot

    @Test
    void entailmentIdIsFoundByNameCaseInsensitively() {
        assertEquals(2, ZeroShotClassificationPipeline.entailmentId(List.of("CONTRADICTION", "NEUTRAL", "ENTAILMENT")));
        assertEquals(0, ZeroShotClassificationPipeline.entailmentId(List.of("entailment", "neutral", "contradiction")));
        assertEquals(-1, ZeroShotClassificationPipeline.entailmentId(List.of("LABEL_0", "LABEL_1")));
    }

    @Test
    void singleLabelNliSoftmaxesEntailmentAcrossLabels() {
        // MNLI layout: contradiction 0, neutral 1, entailment 2
        float[][] logits = {{0.5f, 0.1f, 2.0f}, {1.0f, 0.0f, -1.0f}, {0.0f, 0.0f, 0.5f}};
        double[] scores = ZeroShotClassificationPipeline.nliScores(logits, 2, false);
        double z = Math.exp(2.0) + Math.exp(-1.0) + Math.exp(0.5);
        assertArrayEquals(new double[] {Math.exp(2.0) / z, Math.exp(-1.0) / z, Math.exp(0.5) / z}, scores, 1e-9);
    }

    @Test
    void multiLabelNliSoftmaxesContradictionAgainstEntailmentPerLabel() {
        float[][] logits = {{0.5f, 0.1f, 2.0f}, {1.0f, 0.0f, -1.0f}};
        double[] scores = ZeroShotClassificationPipeline.nliScores(logits, 2, true);
        assertEquals(Math.exp(2.0) / (Math.exp(0.5) + Math.exp(2.0)), scores[0], 1e-9);
        assertEquals(Math.exp(-1.0) / (Math.exp(1.0) + Math.exp(-1.0)), scores[1], 1e-9);
        // entailment at 0: HF takes the last id as contradiction
        float[][] flipped = {{2.0f, 0.1f, 0.5f}};
        assertEquals(
                Math.exp(2.0) / (Math.exp(0.5) + Math.exp(2.0)),
                ZeroShotClassificationPipeline.nliScores(flipped, 0, false)[0],
                1e-9,
                "one label behaves as multi-label");
    }

    @Test
    void zeroShotRanksBestFirstAndTiesPutTheLaterLabelFirstAsHf() {
        var r = ZeroShotClassificationPipeline.rank("t", List.of("a", "b", "c"), new double[] {0.25, 0.5, 0.25});
        assertEquals(List.of("b", "c", "a"), r.labels());
        assertEquals(List.of(0.5, 0.25, 0.25), r.scores());
    }

    @Test
    void hypothesisTemplateWithoutPlaceholderIsRefused() {
        assertEquals(
                List.of("This example is sports."),
                ZeroShotClassificationPipeline.hypotheses("This example is {}.", List.of("sports")));
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> ZeroShotClassificationPipeline.hypotheses("This example is sports.", List.of("x")));
        assertTrue(e.getMessage().contains("{}"), e.getMessage());
    }

    @Test
    void similarityScoresSoftmaxScaledCosinesOrReturnRawCosinesForMultiLabel() {
        double[] cos = {0.30, 0.25};
        double[] p = ZeroShotClassificationPipeline.similarityScores(cos, false);
        assertEquals(1 / (1 + Math.exp(-5)), p[0], 1e-9, "softmax of cos / 0.01");
        assertArrayEquals(cos, ZeroShotClassificationPipeline.similarityScores(cos, true), 0);
    }
}
