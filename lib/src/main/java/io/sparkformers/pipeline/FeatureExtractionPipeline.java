package io.sparkformers.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.sparkformers.hub.Json;
import io.sparkformers.hub.TokenBatch;
import io.sparkformers.nn.EncoderOutputs;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * HF {@code pipeline("feature-extraction")} ({@code FeatureExtractionPipeline}): the encoder's last hidden state,
 * one vector per token, special tokens included and padding excluded: (T, H) per text, T = that text's own token
 * count. HF returns it as a [1][T][H] nested list; {@link #hfJson} does the same. Texts longer than max_length are
 * truncated. With {@link PipelineOptions#outputHiddenStates} / {@link PipelineOptions#outputAttentions},
 * {@link #outputs} also returns every layer's hidden states and attention probabilities, as HF's model returns them
 * with {@code output_hidden_states=True} / {@code output_attentions=True}, cut to the text's own tokens.
 */
public final class FeatureExtractionPipeline extends EncoderPipeline<float[][]> {

    public FeatureExtractionPipeline(HfModel model, PipelineOptions options) throws IOException {
        super(model, options, "feature-extraction", Task.BASE, "a base model (Task.BASE)");
    }

    /** Token vectors of each text: {@code result.get(i)[t]} is token t's H-vector. */
    public List<float[][]> extract(List<String> texts) {
        return predict(PipelineInput.texts(texts));
    }

    /** (B, T, H) last hidden state → per text its own tokens' vectors. */
    @Override
    List<float[][]> rows(NDArray hidden, TokenBatch batch) {
        return List.of(tokenRows(hidden, batch));
    }

    /**
     * One text's encoder outputs, padding cut away (T = the text's token count).
     *
     * @param lastHiddenState (T, H)
     * @param hiddenStates    (L + 1, T, H): the embeddings' output, then each layer's; null unless asked for
     * @param attentions      (L, nh, T, T): each layer's attention probabilities, query row by key column; null
     *                        unless asked for
     */
    public record Outputs(float[][] lastHiddenState, float[][][] hiddenStates, float[][][][] attentions) {}

    /** As {@link #predict}, with the hidden states and attentions the options ask for. */
    public List<Outputs> outputs(List<PipelineInput> inputs) {
        PipelineSupport.requireValid(this, inputs, 0);
        if (!(model.block() instanceof EncoderOutputs.Source source)) {
            throw new IllegalArgumentException("output_hidden_states / output_attentions are not offered for "
                    + model.block().architecture() + " (offered for BERT, RoBERTa, XLM-RoBERTa and DistilBERT)");
        }
        boolean hidden = options.outputHiddenStates();
        boolean attentions = options.outputAttentions();
        List<Outputs> out = new ArrayList<>(inputs.size());
        for (int from = 0; from < inputs.size(); from += options.batchSize()) {
            List<PipelineInput> chunk = inputs.subList(from, Math.min(inputs.size(), from + options.batchSize()));
            TokenBatch batch = tokenizer.encodeBatch(
                    chunk.stream().map(PipelineInput::text).toList(), null);
            try (NDManager scope = model.manager().newSubManager()) {
                EncoderOutputs o = source.predictOutputs(PipelineSupport.inputs(scope, batch), hidden, attentions);
                float[][][] last = tokenRows(o.lastHiddenState(), batch); // [B][T][H]
                float[][][][] layers =
                        hidden ? new float[batch.batchSize()][o.hiddenStates().size()][][] : null;
                for (int l = 0; hidden && l < o.hiddenStates().size(); l++) {
                    float[][][] rows = tokenRows(o.hiddenStates().get(l), batch);
                    for (int r = 0; r < rows.length; r++) layers[r][l] = rows[r];
                }
                float[][][][][] probs =
                        attentions ? new float[batch.batchSize()][o.attentions().size()][][][] : null;
                for (int l = 0; attentions && l < o.attentions().size(); l++) {
                    NDArray a = o.attentions().get(l); // (B, nh, T, T)
                    int nh = (int) a.getShape().get(1);
                    int t = batch.seqLength();
                    float[] flat = a.toFloatArray();
                    for (int r = 0; r < batch.batchSize(); r++) {
                        int n = batch.lengths()[r];
                        float[][][] heads = new float[nh][n][n];
                        for (int h = 0; h < nh; h++) {
                            for (int q = 0; q < n; q++) {
                                System.arraycopy(flat, ((r * nh + h) * t + q) * t, heads[h][q], 0, n);
                            }
                        }
                        probs[r][l] = heads;
                    }
                }
                for (int r = 0; r < batch.batchSize(); r++) {
                    out.add(new Outputs(last[r], hidden ? layers[r] : null, attentions ? probs[r] : null));
                }
            }
        }
        return out;
    }

    /** (B, T, H) → per row its own tokens' vectors. */
    private static float[][][] tokenRows(NDArray hidden, TokenBatch batch) {
        int t = batch.seqLength();
        int h = (int) hidden.getShape().get(2);
        float[] flat = hidden.toFloatArray();
        float[][][] out = new float[batch.batchSize()][][];
        for (int row = 0; row < batch.batchSize(); row++) {
            float[][] vectors = new float[batch.lengths()[row]][];
            for (int tok = 0; tok < vectors.length; tok++) {
                vectors[tok] = new float[h];
                System.arraycopy(flat, (row * t + tok) * h, vectors[tok], 0, h);
            }
            out[row] = vectors;
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
}
