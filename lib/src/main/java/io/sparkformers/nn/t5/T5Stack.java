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
import java.util.ArrayList;
import java.util.List;

/**
 * Port of HF {@code T5Stack}, encoder or decoder: dropout(token embeddings) → {@code block.0 … block.(L-1)} →
 * {@code final_layer_norm} → dropout. Block 0's self-attention computes the position bias (plus the mask) that every
 * block adds to its scores. The token table is the shared one (HF's {@code embed_tokens} is tied, not stored).
 */
final class T5Stack extends HfBlock {

    private final T5Config config;
    private final List<T5Block> blocks = new ArrayList<>();
    private final T5LayerNorm finalLayerNorm;
    private final Dropout dropout;

    T5Stack(T5Config c, boolean decoder) {
        config = c;
        int n = decoder ? c.numDecoderLayers() : c.numLayers();
        for (int i = 0; i < n; i++) blocks.add(addChildBlock("block." + i, new T5Block(c, decoder, i == 0)));
        finalLayerNorm = addChildBlock("final_layer_norm", new T5LayerNorm(c.dModel(), c.layerNormEpsilon()));
        dropout = addChildBlock(
                "dropout", Dropout.builder().optRate((float) c.dropoutRate()).build());
    }

    List<T5Block> blocks() {
        return blocks;
    }

    /**
     * @param tokens    token embeddings (B, T, D)
     * @param past      positions before these (P: the decoder's cache length; 0 in the encoder)
     * @param selfMask  additive self-attention mask broadcastable to (B, 1, T, P + T), or null
     * @param selfKv    per layer {k, v}, grown in place
     * @param crossKv   per layer encoder {k, v} (decoder), or null
     * @param crossMask additive encoder mask (decoder), or null
     * @return (B, T, D)
     */
    NDArray forward(
            ParameterStore ps,
            NDArray tokens,
            long past,
            NDArray selfMask,
            NDArray[][] selfKv,
            NDArray[][] crossKv,
            NDArray crossMask,
            boolean training) {
        long t = tokens.getShape().get(1);
        NDArray bias = blocks.get(0)
                .selfAttention()
                .computeBias(ps, tokens.getManager(), past, t, past + t, training); // (1, nh, T, P + T)
        if (selfMask != null) bias = bias.add(selfMask);
        NDArray x = call(dropout, ps, training, tokens);
        for (int i = 0; i < blocks.size(); i++) {
            x = blocks.get(i).forward(ps, x, bias, selfKv[i], crossKv == null ? null : crossKv[i], crossMask, training);
        }
        return call(dropout, ps, training, call(finalLayerNorm, ps, training, x));
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        throw new UnsupportedOperationException("T5Stack runs inside T5ForConditionalGeneration");
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0].add(config.dModel())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape x = new Shape(1, 1, config.dModel());
        for (T5Block b : blocks) b.initialize(manager, dataType, x);
        finalLayerNorm.initialize(manager, dataType, x);
        dropout.initialize(manager, dataType, x);
    }
}
