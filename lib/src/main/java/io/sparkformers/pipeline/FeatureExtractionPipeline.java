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
 * HF {@code pipeline("feature-extraction")} ({@code FeatureExtractionPipeline}): the encoder's last hidden state,
 * one vector per token, special tokens included and padding excluded: (T, H) per text, T = that text's own token
 * count. HF returns it as a [1][T][H] nested list; {@link #hfJson} does the same. Texts longer than max_length are
 * truncated.
 */
public final class FeatureExtractionPipeline implements Pipeline<float[][]> {

    private final HfModel model;
    private final TextTokenizer tokenizer;
    private final PipelineOptions options;

    public FeatureExtractionPipeline(HfModel model, PipelineOptions options) throws IOException {
        if (model.task() != Task.BASE) {
            throw new IllegalArgumentException(
                    "feature-extraction needs a base model (Task.BASE), got " + model.task());
        }
        this.model = model;
        this.options = options;
        this.tokenizer = Pipelines.tokenizer(model, options);
    }

    @Override
    public String task() {
        return "feature-extraction";
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

    /** Token vectors of each text: {@code result.get(i)[t]} is token t's H-vector. */
    public List<float[][]> extract(List<String> texts) {
        return predict(PipelineInput.texts(texts));
    }

    @Override
    public List<float[][]> predictBatch(List<PipelineInput> inputs, int firstRow) {
        PipelineSupport.requireValid(this, inputs, firstRow);
        List<String> texts = inputs.stream().map(PipelineInput::text).toList();
        TokenBatch batch = tokenizer.encodeBatch(texts, null);
        List<float[][]> out = new ArrayList<>(texts.size());
        try (NDManager scope = model.manager().newSubManager()) {
            NDArray hidden = PipelineSupport.forward(model, scope, batch).head(); // (B, T, H)
            int t = batch.seqLength();
            int h = (int) hidden.getShape().get(2);
            float[] flat = hidden.toFloatArray();
            for (int row = 0; row < batch.batchSize(); row++) {
                float[][] vectors = new float[batch.lengths()[row]][];
                for (int tok = 0; tok < vectors.length; tok++) {
                    vectors[tok] = new float[h];
                    System.arraycopy(flat, (row * t + tok) * h, vectors[tok], 0, h);
                }
                out.add(vectors);
            }
        }
        return out;
    }

    @Override
    public JsonNode hfJson(float[][] vectors) {
        ArrayNode outer = Json.MAPPER.createArrayNode();
        ArrayNode tokens = outer.addArray();
        for (float[] v : vectors) {
            ArrayNode a = tokens.addArray();
            for (float x : v) a.add(x);
        }
        return outer;
    }

    @Override
    public void close() {
        tokenizer.close();
        model.close();
    }
}
