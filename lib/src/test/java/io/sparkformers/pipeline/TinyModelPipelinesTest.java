package io.sparkformers.pipeline;

import static org.junit.jupiter.api.Assertions.*;

import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.SentencePooling;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.nn.Task;
import io.sparkformers.pipeline.QuestionAnsweringPipeline.Answer;
import io.sparkformers.pipeline.TextClassificationPipeline.LabelScore;
import io.sparkformers.pipeline.TokenClassificationPipeline.Entity;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every head's pipeline end to end (tokenise → forward → post-process → HF JSON) on tiny checkpoints whose head
 * logits are fixed by construction (zero weight, chosen bias), so expected outputs are computed here by hand.
 */
class TinyModelPipelinesTest {
    @TempDir
    static Path tmp;

    static Path sentiment, multiLabel, ner, qa, nli, base;

    @BeforeAll
    static void writeCheckpoints() throws Exception {
        sentiment = TinyCheckpoints.write(
                tmp.resolve("sentiment"),
                Task.SEQUENCE_CLASSIFICATION,
                TinyCheckpoints.config(Map.of(0, "NEGATIVE", 1, "POSITIVE"), null),
                "classifier",
                new float[] {0.3f, 1.2f},
                Optional.empty());
        multiLabel = TinyCheckpoints.write(
                tmp.resolve("multi"),
                Task.SEQUENCE_CLASSIFICATION,
                TinyCheckpoints.config(Map.of(0, "toxic", 1, "insult", 2, "threat"), "multi_label_classification"),
                "classifier",
                new float[] {0.5f, -1f, 2f},
                Optional.empty());
        ner = TinyCheckpoints.write(
                tmp.resolve("ner"),
                Task.TOKEN_CLASSIFICATION,
                TinyCheckpoints.config(Map.of(0, "O", 1, "B-PER", 2, "I-PER"), null),
                "classifier",
                new float[] {0f, 1f, 2f},
                Optional.empty());
        qa = TinyCheckpoints.write(
                tmp.resolve("qa"),
                Task.QUESTION_ANSWERING,
                TinyCheckpoints.config(Map.of(0, "LABEL_0", 1, "LABEL_1"), null),
                "qa_outputs",
                new float[] {0.5f, -0.5f},
                Optional.empty());
        nli = TinyCheckpoints.write(
                tmp.resolve("nli"),
                Task.SEQUENCE_CLASSIFICATION,
                TinyCheckpoints.config(Map.of(0, "contradiction", 1, "neutral", 2, "entailment"), null),
                "classifier",
                new float[] {0.1f, 0.2f, 0.5f},
                Optional.empty());
        base = TinyCheckpoints.write(
                tmp.resolve("base"),
                Task.BASE,
                TinyCheckpoints.config(Map.of(0, "LABEL_0", 1, "LABEL_1"), null),
                null,
                null,
                Optional.empty());
    }

    @SuppressWarnings("unchecked")
    static <O> Pipeline<O> create(String task, Path dir, PipelineOptions o) throws Exception {
        return (Pipeline<O>) Pipelines.create(task, dir, o);
    }

    // ---------------------------------------------------------------- text classification

    @Test
    void textClassificationDefaultsToSoftmaxAndHfsSingleLabelOutput() throws Exception {
        try (Pipeline<List<LabelScore>> p = create("sentiment-analysis", sentiment, PipelineOptions.defaults())) {
            List<List<LabelScore>> out = p.predict(PipelineInput.texts(List.of("I love it", "meh")));
            double pos = 1 / (1 + Math.exp(-(1.2 - 0.3)));
            for (List<LabelScore> r : out) {
                assertEquals(1, r.size());
                assertEquals("POSITIVE", r.get(0).label());
                assertEquals(pos, r.get(0).score(), 1e-6);
            }
            // HF: a single text with the default top_k gives [{label, score}]
            var json = p.hfOutput(out.subList(0, 1));
            assertTrue(json.isArray() && json.get(0).get("label").asText().equals("POSITIVE"), json.toString());
        }
    }

    @Test
    void textClassificationTopKAllReturnsEveryLabelSortedAndPairsAreAccepted() throws Exception {
        var o = PipelineOptions.builder()
                .topK(PipelineOptions.ALL)
                .functionToApply("none")
                .build();
        try (Pipeline<List<LabelScore>> p = create("text-classification", sentiment, o)) {
            var out = p.predict(List.of(PipelineInput.pair("A man eats.", "Someone eats."), PipelineInput.of("solo")));
            for (var r : out) {
                assertEquals(
                        List.of(new LabelScore("POSITIVE", 1.2f), new LabelScore("NEGATIVE", 0.3f))
                                .toString(),
                        r.toString());
            }
            assertTrue(p.hfOutput(out.subList(0, 1)).get(0).has("score"), "top_k given: a list of labels");
        }
    }

    @Test
    void multiLabelCheckpointGetsIndependentSigmoids() throws Exception {
        var o = PipelineOptions.builder().topK(PipelineOptions.ALL).build();
        try (Pipeline<List<LabelScore>> p = create("text-classification", multiLabel, o)) {
            var r = p.predict(PipelineInput.texts(List.of("you are awful"))).get(0);
            assertEquals(
                    List.of("threat", "toxic", "insult"),
                    r.stream().map(LabelScore::label).toList());
            assertEquals(1 / (1 + Math.exp(-2)), r.get(0).score(), 1e-6);
            assertEquals(1 / (1 + Math.exp(1)), r.get(2).score(), 1e-6);
        }
    }

    // ---------------------------------------------------------------- token classification

    @Test
    void nerOffsetsIndexTheJavaStringEvenAfterAnEmoji() throws Exception {
        // every token is I-PER with p = e^2 / (1 + e + e^2)
        String text = "😀 Zürich unbelievably";
        double p = Math.exp(2) / (1 + Math.exp(1) + Math.exp(2));
        try (Pipeline<List<Entity>> none = create("ner", ner, PipelineOptions.defaults())) {
            List<Entity> tokens =
                    none.predict(PipelineInput.texts(List.of(text))).get(0);
            assertEquals("😀", tokens.get(0).word(), "an unknown token shows its text");
            for (Entity e : tokens) {
                assertEquals("I-PER", e.entity());
                assertEquals(p, e.score(), 1e-6);
                assertFalse(e.grouped());
            }
            assertEquals(
                    "Zürich",
                    text.substring(tokens.get(1).start(), tokens.get(1).end()));
            assertEquals(
                    "unbelievably",
                    text.substring(
                            tokens.get(2).start(), tokens.get(tokens.size() - 1).end()));
            assertTrue(none.hfJson(tokens).get(0).has("index"));
        }
        for (String strategy : List.of("simple", "first", "average", "max")) {
            var o = PipelineOptions.builder().aggregationStrategy(strategy).build();
            try (Pipeline<List<Entity>> grouped = create("ner", ner, o)) {
                List<Entity> ents =
                        grouped.predict(PipelineInput.texts(List.of(text))).get(0);
                assertEquals(1, ents.size(), strategy + ": consecutive I-PER tokens form one group: " + ents);
                Entity e = ents.get(0);
                assertEquals("PER", e.entity());
                assertEquals(p, e.score(), 1e-6);
                assertEquals(0, e.start());
                assertEquals(text.length(), e.end());
                assertEquals("😀 zurich unbelievably", e.word(), strategy);
                var json = grouped.hfJson(ents).get(0);
                assertEquals("PER", json.get("entity_group").asText());
                assertFalse(json.has("index"));
            }
        }
    }

    // ---------------------------------------------------------------- question answering

    @Test
    void qaWithUniformLogitsPicksTheFirstContextWordWithScoreOneOverTokensSquared() throws Exception {
        // constant start/end logits: the softmax is uniform over [CLS] + context tokens, every span in the band ties
        // and HF's argmax takes the first in row-major order: (first context token, itself)
        String context = "Ann met Bob in Paris.";
        try (Pipeline<List<Answer>> p = create(
                        "question-answering",
                        qa,
                        PipelineOptions.builder()
                                .handleImpossibleAnswer(true)
                                .topK(3)
                                .build());
                TextTokenizer tok = TextTokenizer.load(
                        qa.resolve("tokenizer.json"), io.sparkformers.hub.TokenizerConfig.bertUncased(512), 512)) {
            int c = tok.encode(context).getIds().length - 2;
            List<Answer> a = p.predict(List.of(PipelineInput.qa("Who did Ann meet?", context)))
                    .get(0);
            double expected = 1.0 / ((c + 1) * (c + 1));
            assertEquals("Ann", a.get(0).answer());
            assertEquals(0, a.get(0).start());
            assertEquals(3, a.get(0).end());
            assertEquals(expected, a.get(0).score(), 1e-6);
            // then the window's next tied spans in row-major order; the tied null answer, appended after the spans
            // and sorted stably as HF does, does not displace them
            assertEquals(
                    List.of("Ann", "Ann met", "Ann met Bob"),
                    a.stream().map(Answer::answer).toList());
            for (Answer x : a) assertEquals(expected, x.score(), 1e-6);
        }
    }

    @Test
    void qaLongContextIsWindowedWithDocStrideAndTheBestWindowWins() throws Exception {
        // 60 one-token words; windows of 24 tokens: [CLS] q(2) [SEP] 19 context [SEP], consecutive windows share
        // 8 tokens, so they start at 0, 11, 22, 33, 44 and the last one (44..59) holds 16 context tokens. With
        // uniform logits a window's best score is 1 / (context + 1)^2: the shortest (last) window wins.
        String[] words = {"red", "green", "blue", "black", "white", "pink", "gray", "brown", "gold", "silver"};
        List<String> ctx = new ArrayList<>();
        for (int i = 0; i < 60; i++) ctx.add(words[i % 10]);
        String context = String.join(" ", ctx);
        var o = PipelineOptions.builder().maxSeqLen(24).docStride(8).build();
        try (QuestionAnsweringPipeline p = (QuestionAnsweringPipeline) Pipelines.create("question-answering", qa, o)) {
            Answer a = p.predict(List.of(PipelineInput.qa("which colour", context)))
                    .get(0)
                    .get(0);
            assertEquals(1.0 / (17 * 17), a.score(), 1e-6);
            int wordStart = 0;
            for (int i = 0; i < 44; i++) wordStart += ctx.get(i).length() + 1;
            assertEquals(wordStart, a.start(), "answer starts at word 44: " + a);
            assertEquals(ctx.get(44), a.answer());
            assertEquals(
                    "{\"score\":" + a.score() + ",\"start\":" + a.start() + ",\"end\":" + a.end() + ",\"answer\":\""
                            + a.answer() + "\"}",
                    p.hfJson(List.of(a)).toString());
        }
    }

    @Test
    void qaRefusesAMissingContextAndATooLongQuestionNamingTheRow() throws Exception {
        try (Pipeline<List<Answer>> p = create("question-answering", qa, PipelineOptions.defaults())) {
            var e = assertThrows(
                    IllegalArgumentException.class,
                    () -> p.predict(List.of(PipelineInput.qa("q?", "ctx"), PipelineInput.qa("Who?", null))));
            assertTrue(e.getMessage().startsWith("row 1: context is null"), e.getMessage());
            String longQuestion = "why ".repeat(70);
            var e2 = assertThrows(
                    IllegalArgumentException.class, () -> p.predict(List.of(PipelineInput.qa(longQuestion, "ctx"))));
            assertTrue(
                    e2.getMessage().contains("row 0: the question has 70 tokens, more than max_question_len (64)"),
                    e2.getMessage());
        }
    }

    @Test
    void qaRefusesAQuestionLeavingAtMostDocStrideTokensOnlyWhenTheContextNeedsSeveralWindows() throws Exception {
        // 14 question tokens + 3 special tokens leave 15 context tokens in a 32-token window, not more than the
        // stride 16: HF's tokenizer panics once the context must be cut, and answers when it fits in one window
        String question = "what is the name of the very old stone bridge in the town please";
        var o = PipelineOptions.builder().maxSeqLen(32).docStride(16).build();
        try (Pipeline<List<Answer>> p = create("question-answering", qa, o)) {
            assertEquals(
                    1,
                    p.predict(List.of(PipelineInput.qa(question, "Ann met Bob in Paris.")))
                            .get(0)
                            .size());
            var e = assertThrows(
                    IllegalArgumentException.class,
                    () -> p.predict(List.of(PipelineInput.qa(
                            question, "Ann met Bob in Paris on Tuesday. They ate croissants near the Louvre."))));
            assertTrue(
                    e.getMessage()
                            .startsWith("row 0: a 14-token question leaves 15 context tokens per window, "
                                    + "not more than doc_stride (16), and the context needs several windows"),
                    e.getMessage());
        }
    }

    // ---------------------------------------------------------------- zero-shot NLI

    @Test
    void zeroShotNliOnAnEntailmentCheckpointScoresAsHf() throws Exception {
        var o = PipelineOptions.builder()
                .candidateLabels(List.of("sports", "politics", "cooking"))
                .batchSize(2)
                .build();
        try (ZeroShotClassificationPipeline p =
                (ZeroShotClassificationPipeline) Pipelines.create("zero-shot-classification", nli, o)) {
            assertEquals(ZeroShotClassificationPipeline.Method.NLI, p.method());
            var r = p.predict(PipelineInput.texts(List.of("The match ended 2-1.")))
                    .get(0);
            // equal logits for every pair: entailment softmax is uniform, ties rank the later label first
            assertEquals(List.of("cooking", "politics", "sports"), r.labels());
            for (double s : r.scores()) assertEquals(1.0 / 3, s, 1e-6);
            assertEquals("The match ended 2-1.", p.hfJson(r).get("sequence").asText());
        }
        var multi = o.toBuilder().multiLabel(true).build();
        try (Pipeline<ZeroShotClassificationPipeline.Result> p = create("zero-shot-classification", nli, multi)) {
            var r = p.predict(PipelineInput.texts(List.of("x", "y"))).get(1);
            for (double s : r.scores()) assertEquals(Math.exp(0.5) / (Math.exp(0.1) + Math.exp(0.5)), s, 1e-6);
        }
    }

    @Test
    void zeroShotRefusesCheckpointsWithoutNliLabelsOrEmbeddingsAndEmptyLabels() {
        var o = PipelineOptions.builder().candidateLabels(List.of("a")).build();
        var e = assertThrows(
                IllegalArgumentException.class, () -> Pipelines.create("zero-shot-classification", sentiment, o));
        assertTrue(e.getMessage().contains("no label starting with 'entail'"), e.getMessage());
        var e2 = assertThrows(
                IllegalArgumentException.class,
                () -> Pipelines.create("zero-shot-classification", nli, PipelineOptions.defaults()));
        assertTrue(e2.getMessage().contains("at least one candidate label"), e2.getMessage());
    }

    // ---------------------------------------------------------------- factory, options, bad input

    @Test
    void headsWithoutTrainedWeightsAreRefusedByName() {
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> Pipelines.create("text-classification", base, PipelineOptions.defaults()));
        assertTrue(
                e.getMessage().contains("classifier.weight") && e.getMessage().contains("random"), e.getMessage());
        var e2 = assertThrows(
                IllegalArgumentException.class,
                () -> Pipelines.create("summarization", base, PipelineOptions.defaults()));
        assertTrue(e2.getMessage().contains("SEQ2SEQ_LM is not supported for bert"), e2.getMessage());
        var e3 = assertThrows(
                IllegalArgumentException.class,
                () -> Pipelines.create("speech-recognition", base, PipelineOptions.defaults()));
        assertTrue(e3.getMessage().contains("unknown task 'speech-recognition'"), e3.getMessage());
    }

    @Test
    void nullEmptyAndBlankTextsFailNamingTheirRowAcrossBatches() throws Exception {
        var o = PipelineOptions.builder().batchSize(2).build();
        try (Pipeline<List<LabelScore>> p = create("text-classification", sentiment, o)) {
            for (String bad : new String[] {null, "", " \t\n"}) {
                var rows = new ArrayList<>(PipelineInput.texts(List.of("a", "b", "c")));
                rows.add(PipelineInput.of(bad));
                var e = assertThrows(IllegalArgumentException.class, () -> p.predict(rows));
                assertTrue(e.getMessage().startsWith("row 3: text is "), e.getMessage());
                assertNotNull(p.invalidReason(PipelineInput.of(bad), 3));
            }
            assertNull(p.invalidReason(PipelineInput.of("fine"), 0));
        }
    }

    @Test
    void maxLengthAboveTheCheckpointsLimitIsRefused() {
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> Pipelines.create(
                        "feature-extraction",
                        base,
                        PipelineOptions.builder().maxLength(513).build()));
        assertTrue(
                e.getMessage().contains("max_length 513 exceeds")
                        && e.getMessage().contains("512"),
                e.getMessage());
    }

    @Test
    void sentenceEmbeddingsOnATinyCheckpointAreUnitVectors() throws Exception {
        Path dir = TinyCheckpoints.write(
                tmp.resolve("st"),
                Task.SENTENCE_EMBEDDING,
                TinyCheckpoints.config(Map.of(0, "LABEL_0", 1, "LABEL_1"), null),
                null,
                null,
                Optional.of(new SentencePooling(SentencePooling.Mode.MEAN, true)));
        try (Pipeline<float[]> p = create("sentence-embeddings", dir, PipelineOptions.defaults())) {
            float[] v = p.predict(PipelineInput.texts(List.of("hello world"))).get(0);
            assertEquals(32, v.length);
            assertEquals(1.0, SentenceEmbeddingPipeline.cosine(v, v), 1e-6);
            double norm = 0;
            for (float x : v) norm += x * x;
            assertEquals(1.0, Math.sqrt(norm), 1e-5);
        }
    }

    @Test
    void sentenceEmbeddingsStopAtTheCheckpointsMaxSeqLengthUnlessMaxLengthIsGiven() throws Exception {
        Path dir = TinyCheckpoints.write(
                tmp.resolve("st-max-seq"),
                Task.SENTENCE_EMBEDDING,
                TinyCheckpoints.config(Map.of(0, "LABEL_0", 1, "LABEL_1"), null),
                null,
                null,
                Optional.of(new SentencePooling(SentencePooling.Mode.MEAN, true, 8)));
        assertEquals(8, HfCheckpoint.open(dir).pooling().orElseThrow().maxSeqLength(), "sentence_bert_config.json");
        List<String> text = List.of("the quick brown fox jumps over the lazy dog and keeps on running far away");
        float[] byDefault;
        float[] at8;
        float[] at32;
        try (Pipeline<float[]> p = create("sentence-embeddings", dir, PipelineOptions.defaults())) {
            byDefault = p.predict(PipelineInput.texts(text)).get(0);
        }
        try (Pipeline<float[]> p = create(
                "sentence-embeddings",
                dir,
                PipelineOptions.builder().maxLength(8).build())) {
            at8 = p.predict(PipelineInput.texts(text)).get(0);
        }
        try (Pipeline<float[]> p = create(
                "sentence-embeddings",
                dir,
                PipelineOptions.builder().maxLength(32).build())) {
            at32 = p.predict(PipelineInput.texts(text)).get(0);
        }
        assertArrayEquals(
                at8, byDefault, "no max_length: truncated at max_seq_length 8, as SentenceTransformer.encode");
        assertTrue(SentenceEmbeddingPipeline.cosine(at8, at32) < 0.9999, "an explicit max_length reads further");
    }
}
