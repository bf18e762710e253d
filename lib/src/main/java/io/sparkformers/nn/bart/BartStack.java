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
import io.sparkformers.nn.NativeArrays;
import java.util.ArrayList;
import java.util.List;

/**
 * Port of HF {@code BartEncoder} and {@code BartDecoder} (one class, the decoder's layers having cross-attention), and
 * of {@code MarianEncoder} and {@code MarianDecoder} with {@link BartPositions#SINUSOIDAL}: token embeddings read from
 * the shared table times embed_scale (sqrt(d_model) with scale_embedding), plus positions ({@link BartPositions}:
 * BART's learned {@code embed_positions(position + 2)} then layernorm_embedding, or Marian's sinusoids), dropout,
 * then {@code layers.0 … layers.(L-1)}. No final LayerNorm (BART's layers are post-LN). The shared table is not a child:
 * HF's {@code embed_tokens} is tied to {@code model.shared} and not stored apart.
 */
final class BartStack extends HfBlock {

    private final BartConfig config;
    private final float embedScale;
    /** BART's learned table, or null (Marian). */
    private final Embedding embedPositions;
    /** Marian's sinusoidal table (max_position_embeddings, D) row-major, or null (BART). */
    private final float[] sinusoids;

    private final List<BartLayer> layers = new ArrayList<>();
    /** BART's layernorm_embedding, or null (Marian). */
    private final LayerNorm layernormEmbedding;

    private final Dropout dropout;

    BartStack(BartConfig c, boolean decoder, BartPositions positions) {
        config = c;
        embedScale = c.scaleEmbedding() ? (float) Math.sqrt(c.dModel()) : 1f;
        boolean learned = positions == BartPositions.LEARNED;
        embedPositions = learned
                ? addChildBlock(
                        "embed_positions",
                        new Embedding(c.maxPositionEmbeddings() + BartConfig.POSITION_OFFSET, c.dModel(), null))
                : null;
        sinusoids = learned ? null : BartPositions.sinusoids(c.maxPositionEmbeddings(), c.dModel());
        int n = decoder ? c.decoderLayers() : c.encoderLayers();
        for (int i = 0; i < n; i++) layers.add(addChildBlock("layers." + i, new BartLayer(c, decoder)));
        layernormEmbedding = learned ? addChildBlock("layernorm_embedding", new LayerNorm(c.dModel(), 1e-5)) : null;
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
        NDArray x = NativeArrays.mul(tokens, embedScale).add(positions(ps, tokens, past, training)); // (B, T, D)
        if (layernormEmbedding != null) x = call(layernormEmbedding, ps, training, x);
        x = call(dropout, ps, training, x);
        for (int i = 0; i < layers.size(); i++) {
            x = layers.get(i)
                    .forward(ps, x, selfMask, selfKv[i], crossKv == null ? null : crossKv[i], crossMask, training);
        }
        return x;
    }

    /** The position embeddings of positions {@code [P, P + T)}: (T, D). */
    private NDArray positions(ParameterStore ps, NDArray tokens, long past, boolean training) {
        long t = tokens.getShape().get(1);
        if (embedPositions != null) {
            NDArray ids = tokens.getManager()
                    .arange(
                            past + BartConfig.POSITION_OFFSET,
                            past + t + BartConfig.POSITION_OFFSET,
                            1,
                            DataType.INT64);
            return call(embedPositions, ps, training, ids);
        }
        int d = config.dModel();
        float[] rows = new float[(int) t * d];
        System.arraycopy(sinusoids, (int) past * d, rows, 0, (int) t * d);
        return tokens.getManager().create(rows, new Shape(t, d));
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
        if (embedPositions != null) embedPositions.initialize(manager, dataType, new Shape(1, 1));
        for (BartLayer l : layers) l.initialize(manager, dataType, x);
        if (layernormEmbedding != null) layernormEmbedding.initialize(manager, dataType, x);
        dropout.initialize(manager, dataType, x);
    }
}
