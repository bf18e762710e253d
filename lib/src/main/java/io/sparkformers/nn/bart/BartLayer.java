package io.sparkformers.nn.bart;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.Activations;
import io.sparkformers.nn.HfBlock;
import io.sparkformers.nn.LayerNorm;
import java.util.function.UnaryOperator;

/**
 * Port of HF {@code BartEncoderLayer} and {@code BartDecoderLayer} (one class: the decoder layer is the encoder
 * layer with cross-attention between self-attention and the feed-forward), post-LayerNorm:
 * {@code x = ln(x + dropout(attn(x)))} per sub-layer, then {@code x = ln(x + dropout(fc2(act(fc1(x)))))}. Children
 * self_attn, self_attn_layer_norm, [encoder_attn, encoder_attn_layer_norm], fc1, fc2, final_layer_norm, as HF names
 * them.
 */
public final class BartLayer extends HfBlock {

    private final int dModel;
    private final int ffnDim;
    private final UnaryOperator<NDArray> act;
    private final BartAttention selfAttn;
    private final LayerNorm selfAttnLayerNorm;
    private final BartAttention encoderAttn;
    private final LayerNorm encoderAttnLayerNorm;
    private final Linear fc1;
    private final Linear fc2;
    private final LayerNorm finalLayerNorm;
    private final Dropout dropout;
    private final Dropout activationDropout;

    public BartLayer(BartConfig c, boolean decoder) {
        dModel = c.dModel();
        ffnDim = decoder ? c.decoderFfnDim() : c.encoderFfnDim();
        int heads = decoder ? c.decoderAttentionHeads() : c.encoderAttentionHeads();
        act = Activations.of(c.activationFunction());
        selfAttn = addChildBlock("self_attn", new BartAttention(c, heads));
        selfAttnLayerNorm = addChildBlock("self_attn_layer_norm", new LayerNorm(c.dModel(), 1e-5));
        encoderAttn = decoder ? addChildBlock("encoder_attn", new BartAttention(c, heads)) : null;
        encoderAttnLayerNorm =
                decoder ? addChildBlock("encoder_attn_layer_norm", new LayerNorm(c.dModel(), 1e-5)) : null;
        fc1 = addChildBlock("fc1", BartAttention.linear(ffnDim));
        fc2 = addChildBlock("fc2", BartAttention.linear(c.dModel()));
        finalLayerNorm = addChildBlock("final_layer_norm", new LayerNorm(c.dModel(), 1e-5));
        dropout = addChildBlock(
                "dropout", Dropout.builder().optRate((float) c.dropout()).build());
        activationDropout = addChildBlock(
                "activation_dropout",
                Dropout.builder().optRate((float) c.activationDropout()).build());
    }

    BartAttention selfAttn() {
        return selfAttn;
    }

    public BartAttention encoderAttn() {
        return encoderAttn;
    }

    /**
     * @param x        (B, T, D)
     * @param selfMask additive mask of self-attention, broadcastable to (B, nh, T, P + T), or null
     * @param selfKv   in: cached {k, v} (B, nh, P, hd) or nulls; out: grown to P + T positions
     * @param crossKv  encoder {k, v} (B, nh, S, hd), decoder only (null in the encoder)
     * @param crossMask additive encoder mask (B, 1, 1, S), or null
     * @return (B, T, D)
     */
    public NDArray forward(
            ParameterStore ps,
            NDArray x,
            NDArray selfMask,
            NDArray[] selfKv,
            NDArray[] crossKv,
            NDArray crossMask,
            boolean training) {
        NDArray[] qkv = selfAttn.queryKeyValue(ps, x, training); // 3 × (B, nh, T, hd)
        if (selfKv[0] != null) {
            qkv[1] = selfKv[0].concat(qkv[1], 2); // (B, nh, P + T, hd)
            qkv[2] = selfKv[1].concat(qkv[2], 2);
        }
        selfKv[0] = qkv[1];
        selfKv[1] = qkv[2];
        NDArray h = selfAttn.attendHeads(ps, qkv[0], qkv[1], qkv[2], selfMask, training);
        x = call(selfAttnLayerNorm, ps, training, x.add(call(dropout, ps, training, h)));
        if (encoderAttn != null) {
            h = encoderAttn.attend(ps, x, crossKv[0], crossKv[1], crossMask, training);
            x = call(encoderAttnLayerNorm, ps, training, x.add(call(dropout, ps, training, h)));
        }
        h = call(activationDropout, ps, training, act.apply(call(fc1, ps, training, x))); // (B, T, ffn)
        h = call(dropout, ps, training, call(fc2, ps, training, h)); // (B, T, D)
        return call(finalLayerNorm, ps, training, x.add(h));
    }

    /** Encoder use: x (B, T, D) and an optional additive mask. */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray mask = inputs.size() > 1 ? inputs.get(1) : null;
        return new NDList(forward(ps, inputs.get(0), mask, new NDArray[2], null, null, training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape x = new Shape(1, 1, dModel);
        selfAttn.initialize(manager, dataType, x);
        selfAttnLayerNorm.initialize(manager, dataType, x);
        if (encoderAttn != null) {
            encoderAttn.initialize(manager, dataType, x);
            encoderAttnLayerNorm.initialize(manager, dataType, x);
        }
        fc1.initialize(manager, dataType, x);
        fc2.initialize(manager, dataType, new Shape(1, 1, ffnDim));
        finalLayerNorm.initialize(manager, dataType, x);
        dropout.initialize(manager, dataType, x);
        activationDropout.initialize(manager, dataType, x);
    }
}
