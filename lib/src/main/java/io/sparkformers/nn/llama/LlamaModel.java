package io.sparkformers.nn.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.Embedding;
import io.sparkformers.nn.HfBlock;
import io.sparkformers.nn.KvBuffer;
import io.sparkformers.nn.LayerScope;
import java.util.ArrayList;
import java.util.List;

/**
 * Port of HF {@code LlamaModel}: {@code embed_tokens}, {@code layers.0 … layers.(L-1)}, the final {@code norm}; the
 * rotary tables and the causal + padding (+ sliding window) masks are computed once per forward and shared by the
 * layers. Inputs of the block form: input_ids (B, T) int64, optionally attention_mask (B, T) and position_ids
 * (B, T) (default {@code 0 … T-1}, as HF's model without a cache); output: last_hidden_state (B, T, H).
 */
public final class LlamaModel extends HfBlock {

    private final LlamaConfig config;
    private final Embedding embedTokens;
    private final List<LlamaDecoderLayer> layers = new ArrayList<>();
    private final LlamaRMSNorm norm;
    private final LlamaRotaryEmbedding rotaryEmb;

    public LlamaModel(LlamaConfig c) {
        config = c;
        Integer pad =
                c.padTokenId() != null && c.padTokenId() >= 0 && c.padTokenId() < c.vocabSize() ? c.padTokenId() : null;
        embedTokens = addChildBlock("embed_tokens", new Embedding(c.vocabSize(), c.hiddenSize(), pad));
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            layers.add(addChildBlock("layers." + i, new LlamaDecoderLayer(c)));
        }
        norm = addChildBlock("norm", new LlamaRMSNorm(c.hiddenSize(), c.rmsNormEps()));
        rotaryEmb = new LlamaRotaryEmbedding(c);
    }

    public Embedding embedTokens() {
        return embedTokens;
    }

    /**
     * The decoder over {@code T} new positions after {@code P} cached ones.
     *
     * @param inputIds      (B, T) int64
     * @param attentionMask (B, P + T) of 1 (token) / 0 (padding)
     * @param positionIds   (B, T) int64
     * @param cache         the keys and values of the P earlier positions, to which the T new ones are written;
     *                      or null (nothing kept)
     * @return last_hidden_state (B, T, H) after the final norm, in inputIds' manager
     */
    NDArray forward(
            ParameterStore ps,
            NDArray inputIds,
            NDArray attentionMask,
            NDArray positionIds,
            KvBuffer cache,
            boolean training) {
        long t = inputIds.getShape().get(1);
        long s = attentionMask.getShape().get(1);
        NDList cosSin = rotaryEmb.cosSin(positionIds); // (B, 1, T, hd) each
        NDArray fullMask = mask(attentionMask, s - t, t, null);
        NDArray[] masks = new NDArray[layers.size()];
        NDArray windowMask = null;
        for (int i = 0; i < layers.size(); i++) {
            Integer window = config.slidingWindow(i);
            if (window != null && windowMask == null) windowMask = mask(attentionMask, s - t, t, window);
            masks[i] = window == null ? fullMask : windowMask;
        }
        NDArray h = call(embedTokens, ps, training, inputIds); // (B, T, H)
        for (int i = 0; i < layers.size(); i++) {
            LlamaDecoderLayer layer = layers.get(i);
            NDArray mask = masks[i];
            int index = i;
            h = LayerScope.apply(
                    h,
                    i > 0,
                    training,
                    x -> layer.forward(ps, x, cosSin.get(0), cosSin.get(1), mask, cache, index, training));
        }
        return call(norm, ps, training, h);
    }

    /**
     * HF's 4-d eager mask: query {@code past + q} may see key {@code j} when {@code j <= past + q} (causal, in cache
     * positions, padding included, as HF's {@code cache_position}), the key is not padding, and — with a window —
     * {@code j > past + q - window}. (B, S) -> additive (B, 1, T, S) of 0 / -3.4028235e38.
     */
    static NDArray mask(NDArray attentionMask, long past, long t, Integer window) {
        NDManager m = attentionMask.getManager();
        long s = attentionMask.getShape().get(1);
        NDArray query = m.arange(past, past + t, 1, DataType.INT64).reshape(t, 1); // (T, 1)
        NDArray key = m.arange(0, s, 1, DataType.INT64).reshape(1, s); // (1, S)
        NDArray allowed = key.lte(query); // (T, S)
        if (window != null) allowed = allowed.logicalAnd(key.gt(query.sub(window)));
        NDArray notPad = attentionMask.eq(1).reshape(attentionMask.getShape().get(0), 1, 1, s); // (B, 1, 1, S)
        return allowed.logicalAnd(notPad)
                .toType(DataType.FLOAT32, false)
                .sub(1f)
                .mul(Float.MAX_VALUE);
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray ids = inputs.get(0);
        long b = ids.getShape().get(0);
        long t = ids.getShape().get(1);
        NDManager m = ids.getManager();
        NDArray mask = inputs.size() > 1 ? inputs.get(1) : m.ones(new Shape(b, t), DataType.INT64);
        NDArray positions = inputs.size() > 2
                ? inputs.get(2)
                : m.arange(0, t, 1, DataType.INT64).reshape(1, t).repeat(0, b);
        return new NDList(forward(ps, ids, mask, positions, null, training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0].add(config.hiddenSize())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        embedTokens.initialize(manager, dataType, inputShapes[0]);
        Shape hidden = inputShapes[0].add(config.hiddenSize());
        for (LlamaDecoderLayer layer : layers) layer.initialize(manager, dataType, hidden);
        norm.initialize(manager, dataType, hidden);
    }
}
