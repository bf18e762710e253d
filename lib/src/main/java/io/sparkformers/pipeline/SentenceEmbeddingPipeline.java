package io.sparkformers.pipeline;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.sparkformers.hub.Json;
import io.sparkformers.hub.TokenBatch;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * sentence-transformers' {@code SentenceTransformer.encode} as a pipeline ({@code sentence-embeddings}): one vector
 * per text, pooled and normalised as the checkpoint's {@code modules.json} says (mean + L2 when it has none).
 * Texts longer than max_length are truncated.
 */
public final class SentenceEmbeddingPipeline extends EncoderPipeline<float[]> {

    public SentenceEmbeddingPipeline(HfModel model, PipelineOptions options) throws IOException {
        super(
                model,
                options,
                "sentence-embeddings",
                Task.SENTENCE_EMBEDDING,
                "a model loaded for Task.SENTENCE_EMBEDDING");
    }

    /** One embedding per text. */
    public List<float[]> embed(List<String> texts) {
        return predict(PipelineInput.texts(texts));
    }

    /** (B, H) pooled embeddings → one vector per text. */
    @Override
    List<float[]> rows(NDArray emb, TokenBatch batch) {
        int h = (int) emb.getShape().get(1);
        float[] flat = emb.toFloatArray();
        List<float[]> out = new ArrayList<>(batch.batchSize());
        for (int row = 0; row < batch.batchSize(); row++) {
            float[] v = new float[h];
            System.arraycopy(flat, row * h, v, 0, h);
            out.add(v);
        }
        return out;
    }

    /** Cosine similarity (sentence-transformers' {@code util.cos_sim}), in double. */
    public static double cosine(float[] a, float[] b) {
        if (a.length != b.length) throw new IllegalArgumentException("vectors of " + a.length + " and " + b.length);
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return dot / Math.max(Math.sqrt(na) * Math.sqrt(nb), 1e-12);
    }

    @Override
    public JsonNode hfJson(float[] v) {
        ArrayNode a = Json.MAPPER.createArrayNode();
        for (float x : v) a.add(x);
        return a;
    }
}
