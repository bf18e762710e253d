package io.sparkformers.nn.t5;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.HfBlock;

/**
 * Port of HF {@code T5Block} with its sub-layers inlined ({@code T5LayerSelfAttention}, {@code
 * T5LayerCrossAttention}, {@code T5LayerFF}: each {@code x = x + dropout(f(layer_norm(x)))}), pre-RMS-norm. The
 * children keep HF's names: {@code layer.0.SelfAttention}, {@code layer.0.layer_norm}, in the decoder
 * {@code layer.1.EncDecAttention}, {@code layer.1.layer_norm}, then {@code layer.N.DenseReluDense},
 * {@code layer.N.layer_norm}.
 */
final class T5Block extends HfBlock {

    private final int dModel;
    private final T5Attention selfAttention;
    private final T5LayerNorm selfNorm;
    private final T5Attention encDecAttention;
    private final T5LayerNorm crossNorm;
    private final T5DenseActDense denseReluDense;
    private final T5LayerNorm ffNorm;
    private final Dropout dropout;

    T5Block(T5Config c, boolean decoder, boolean hasRelativeAttentionBias) {
        dModel = c.dModel();
        selfAttention = addChildBlock("layer.0.SelfAttention", new T5Attention(c, decoder, hasRelativeAttentionBias));
        selfNorm = addChildBlock("layer.0.layer_norm", new T5LayerNorm(c.dModel(), c.layerNormEpsilon()));
        encDecAttention = decoder ? addChildBlock("layer.1.EncDecAttention", new T5Attention(c, true, false)) : null;
        crossNorm =
                decoder ? addChildBlock("layer.1.layer_norm", new T5LayerNorm(c.dModel(), c.layerNormEpsilon())) : null;
        String ff = decoder ? "layer.2" : "layer.1";
        denseReluDense = addChildBlock(ff + ".DenseReluDense", new T5DenseActDense(c));
        ffNorm = addChildBlock(ff + ".layer_norm", new T5LayerNorm(c.dModel(), c.layerNormEpsilon()));
        dropout = addChildBlock(
                "dropout", Dropout.builder().optRate((float) c.dropoutRate()).build());
    }

    T5Attention selfAttention() {
        return selfAttention;
    }

    T5Attention encDecAttention() {
        return encDecAttention;
    }

    /**
     * @param x         (B, T, D)
     * @param selfBias  position bias plus mask of self-attention, broadcastable to (B, nh, T, P + T)
     * @param selfKv    in: cached {k, v} (B, nh, P, d_kv) or nulls; out: grown to P + T positions
     * @param crossKv   encoder {k, v} (decoder), or null
     * @param crossBias encoder mask (B, 1, 1, S) (decoder), or null
     */
    NDArray forward(
            ParameterStore ps,
            NDArray x,
            NDArray selfBias,
            NDArray[] selfKv,
            NDArray[] crossKv,
            NDArray crossBias,
            boolean training) {
        NDArray normed = call(selfNorm, ps, training, x);
        NDArray[] qkv = selfAttention.queryKeyValue(ps, normed, training); // 3 × (B, nh, T, d_kv)
        NDArray[] kv = {qkv[1], qkv[2]};
        if (selfKv[0] != null) {
            kv[0] = selfKv[0].concat(kv[0], 2); // (B, nh, P + T, d_kv)
            kv[1] = selfKv[1].concat(kv[1], 2);
        }
        selfKv[0] = kv[0];
        selfKv[1] = kv[1];
        x = x.add(call(dropout, ps, training, selfAttention.attendHeads(ps, qkv[0], kv, selfBias, training)));
        if (encDecAttention != null) {
            NDArray h = encDecAttention.attend(ps, call(crossNorm, ps, training, x), crossKv, crossBias, training);
            x = x.add(call(dropout, ps, training, h));
        }
        NDArray h = call(denseReluDense, ps, training, call(ffNorm, ps, training, x));
        return x.add(call(dropout, ps, training, h));
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray bias = inputs.size() > 1 ? inputs.get(1) : null;
        return new NDList(forward(ps, inputs.get(0), bias, new NDArray[2], null, null, training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape x = new Shape(1, 1, dModel);
        selfAttention.initialize(manager, dataType, x);
        selfNorm.initialize(manager, dataType, x);
        if (encDecAttention != null) {
            encDecAttention.initialize(manager, dataType, x);
            crossNorm.initialize(manager, dataType, x);
        }
        denseReluDense.initialize(manager, dataType, x);
        ffNorm.initialize(manager, dataType, x);
        dropout.initialize(manager, dataType, x);
    }
}
