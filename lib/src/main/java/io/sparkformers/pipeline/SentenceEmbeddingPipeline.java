package io.sparkformers.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.sparkformers.hub.Json;
import io.sparkformers.hub.TextTokenizer;
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
public final class SentenceEmbeddingPipeline implements Pipeline<float[]> {

    private final HfModel model;
    private final TextTokenizer tokenizer;
    private final PipelineOptions options;

    public SentenceEmbeddingPipeline(HfModel model, PipelineOptions options) throws IOException {
        if (model.task() != Task.SENTENCE_EMBEDDING) {
            throw new IllegalArgumentException(
                    "sentence-embeddings needs a model loaded for Task.SENTENCE_EMBEDDING, got " + model.task());
        }
        this.model = model;
        this.options = options;
        this.tokenizer = Pipelines.tokenizer(model, options);
    }

    @Override
    public String task() {
        return "sentence-embeddings";
    }

    @Override
    public PipelineOptions options() {
        return options;
    }

    public TextTokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public String invalidReason(PipelineInput input, int row) {
        return PipelineSupport.textProblem(input.text(), "text", row);
    }

    /** One embedding per text. */
    public List<float[]> embed(List<String> texts) {
        return predict(PipelineInput.texts(texts));
    }

    @Override
    public List<float[]> predictBatch(List<PipelineInput> inputs, int firstRow) {
        PipelineSupport.requireValid(this, inputs, firstRow);
        TokenBatch batch =
                tokenizer.encodeBatch(inputs.stream().map(PipelineInput::text).toList(), null);
        List<float[]> out = new ArrayList<>(inputs.size());
        try (NDManager scope = model.manager().newSubManager()) {
            NDArray emb = PipelineSupport.forward(model, scope, batch).head(); // (B, H)
            int h = (int) emb.getShape().get(1);
            float[] flat = emb.toFloatArray();
            for (int row = 0; row < batch.batchSize(); row++) {
                float[] v = new float[h];
                System.arraycopy(flat, row * h, v, 0, h);
                out.add(v);
            }
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

    @Override
    public void close() {
        tokenizer.close();
        model.close();
    }
}
