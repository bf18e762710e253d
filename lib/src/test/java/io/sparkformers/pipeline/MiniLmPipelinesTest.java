package io.sparkformers.pipeline;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** feature-extraction, sentence-embeddings and zero-shot similarity on the real all-MiniLM-L6-v2 weights. */
class MiniLmPipelinesTest {
    static Path dir;
    static SentenceEmbeddingPipeline embeddings;
    static FeatureExtractionPipeline features;

    @BeforeAll
    static void load() throws Exception {
        dir = TinyCheckpoints.miniLm();
        embeddings =
                (SentenceEmbeddingPipeline) Pipelines.create("sentence-embeddings", dir, PipelineOptions.defaults());
        features = (FeatureExtractionPipeline) Pipelines.create("feature-extraction", dir, PipelineOptions.defaults());
    }

    @AfterAll
    static void close() {
        embeddings.close();
        features.close();
    }

    @Test
    void cosineOfTheSentenceTransformersExampleIsAbout0755() {
        List<float[]> v = embeddings.embed(List.of("A man is eating food.", "A man is eating a piece of bread."));
        double cos = SentenceEmbeddingPipeline.cosine(v.get(0), v.get(1));
        System.out.println("all-MiniLM-L6-v2 cosine = " + cos);
        assertEquals(0.755, cos, 0.01, "cosine = " + cos);
    }

    @Test
    void featureExtractionGivesOneVectorPerTokenAndTheirNormalisedMeanIsTheSentenceEmbedding() {
        String text = "A man is eating food.";
        float[][] tokens = features.extract(List.of(text)).get(0);
        int expectedTokens = features.tokenizer().encode(text).getIds().length;
        assertEquals(expectedTokens, tokens.length, "[CLS] a man is eating food . [SEP]");
        assertEquals(384, tokens[0].length);
        double[] mean = new double[384];
        for (float[] t : tokens) for (int i = 0; i < 384; i++) mean[i] += t[i] / tokens.length;
        double norm = 0;
        for (double x : mean) norm += x * x;
        float[] emb = embeddings.embed(List.of(text)).get(0);
        double maxDiff = 0;
        for (int i = 0; i < 384; i++) maxDiff = Math.max(maxDiff, Math.abs(mean[i] / Math.sqrt(norm) - emb[i]));
        assertTrue(maxDiff < 1e-5, "max |diff| = " + maxDiff);
        assertEquals(1, features.hfJson(tokens).size(), "HF's [1][T][H] nesting");
        assertEquals(expectedTokens, features.hfJson(tokens).get(0).size());
    }

    @Test
    void batchedAndPaddedRowsEqualSingleRows() {
        List<String> texts =
                List.of("short", "a much longer sentence that needs plenty of padding in its batch", "mid size");
        List<float[]> batched = embeddings.embed(texts);
        double maxDiff = 0;
        for (int i = 0; i < texts.size(); i++) {
            float[] single = embeddings.embed(List.of(texts.get(i))).get(0);
            for (int k = 0; k < single.length; k++)
                maxDiff = Math.max(maxDiff, Math.abs(single[k] - batched.get(i)[k]));
        }
        assertTrue(maxDiff < 1e-5, "max |diff| = " + maxDiff);
    }

    @Test
    void aOneMegabyteTextIsTruncatedToMaxLength() {
        String huge = "lorem ipsum dolor sit amet ".repeat((1 << 20) / 27 + 1);
        assertTrue(huge.length() >= 1 << 20);
        float[][] tokens = features.extract(List.of(huge)).get(0);
        assertEquals(512, tokens.length, "truncated at the checkpoint's max_length");
        assertEquals(384, embeddings.embed(List.of(huge)).get(0).length);
    }

    @Test
    void maxLengthOptionTruncatesTokens() throws Exception {
        try (var p = (FeatureExtractionPipeline) Pipelines.create(
                "feature-extraction",
                dir,
                PipelineOptions.builder().maxLength(8).build())) {
            assertEquals(
                    8,
                    p.extract(List.of("one two three four five six seven eight nine ten"))
                            .get(0)
                            .length);
        }
    }

    @Test
    void zeroShotOnASentenceEmbeddingCheckpointRanksByCosine() throws Exception {
        var o = PipelineOptions.builder()
                .candidateLabels(List.of("cooking", "football", "elections"))
                .build();
        try (var p = (ZeroShotClassificationPipeline) Pipelines.create("zero-shot-classification", dir, o)) {
            assertEquals(ZeroShotClassificationPipeline.Method.SIMILARITY, p.method());
            var r = p
                    .classify(List.of(
                            "The striker scored twice in the second half.",
                            "Simmer the onions in butter until golden."))
                    .stream()
                    .toList();
            assertEquals("football", r.get(0).labels().get(0), r.get(0).toString());
            assertEquals("cooking", r.get(1).labels().get(0), r.get(1).toString());
            assertEquals(
                    1.0,
                    r.get(0).scores().stream().mapToDouble(Double::doubleValue).sum(),
                    1e-9);
        }
    }
}
