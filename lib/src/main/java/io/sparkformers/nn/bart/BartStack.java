package io.sparkformers.nn.bart;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.Embedding;
import io.sparkformers.nn.HfBlock;
import io.sparkformers.nn.LayerNorm;
import java.util.ArrayList;
import java.util.List;

/**
 * Port of HF {@code BartEncoder} and {@code BartDecoder} (one class, the decoder's layers having cross-attention):
 * token embeddings read from the shared table times embed_scale (sqrt(d_model) with scale_embedding), plus learned
 * positions {@code embed_positions(position + 2)} (HF's offset), layernorm_embedding, dropout, then
 * {@code layers.0 … layers.(L-1)}. No final LayerNorm (BART's layers are post-LN). The shared table is not a child:
 * HF's {@code embed_tokens} is tied to {@code model.shared} and not stored apart.
 */
final class BartStack extends HfBlock {

    private final BartConfig config;
    private final float embedScale;
    private final Embedding embedPositions;
    private final List<BartLayer> layers = new ArrayList<>();
    private final LayerNorm layernormEmbedding;
    private final Dropout dropout;

    BartStack(BartConfig c, boolean decoder) {
        config = c;
        embedScale = c.scaleEmbedding() ? (float) Math.sqrt(c.dModel()) : 1f;
        embedPositions = addChildBlock(
                "embed_positions",
                new Embedding(c.maxPositionEmbeddings() + BartConfig.POSITION_OFFSET, c.dModel(), null));
        int n = decoder ? c.decoderLayers() : c.encoderLayers();
        for (int i = 0; i < n; i++) layers.add(addChildBlock("layers." + i, new BartLayer(c, decoder)));
        layernormEmbedding = addChildBlock("layernorm_embedding", new LayerNorm(c.dModel(), 1e-5));
        dropout = addChildBlock(
                "dropout", Dropout.builder().optRate((float) c.dropout()).build());
    }

    List<BartLayer> layers() {
        return layers;
    }

    /**
     * @param tokens    token embeddings from the shared table (B, T, D), not yet scaled
     * @param past      positions before these (P, the decoder's cache length; 0 in the encoder)
     * @param selfMask  additive self-attention mask, or null
     * @param selfKv    per layer {k, v}, grown in place (decoder cache), or fresh pairs
     * @param crossKv   per layer encoder {k, v} (decoder), or null (encoder)
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
        if (past + t > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("sequence length " + (past + t) + " exceeds max_position_embeddings "
                    + config.maxPositionEmbeddings());
        }
        NDArray positions = tokens.getManager()
                .arange(past + BartConfig.POSITION_OFFSET, past + t + BartConfig.POSITION_OFFSET, 1, DataType.INT64);
        NDArray x = tokens.mul(embedScale).add(call(embedPositions, ps, training, positions)); // (B, T, D)
        x = call(dropout, ps, training, call(layernormEmbedding, ps, training, x));
        for (int i = 0; i < layers.size(); i++) {
            x = layers.get(i)
                    .forward(ps, x, selfMask, selfKv[i], crossKv == null ? null : crossKv[i], crossMask, training);
        }
        return x;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        throw new UnsupportedOperationException("BartStack runs inside BartModel");
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0].add(config.dModel())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape x = new Shape(1, 1, config.dModel());
        embedPositions.initialize(manager, dataType, new Shape(1, 1));
        for (BartLayer l : layers) l.initialize(manager, dataType, x);
        layernormEmbedding.initialize(manager, dataType, x);
        dropout.initialize(manager, dataType, x);
    }
}
