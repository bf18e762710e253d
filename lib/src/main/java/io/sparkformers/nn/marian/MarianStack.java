package io.sparkformers.nn.marian;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.HfBlock;
import io.sparkformers.nn.bart.BartConfig;
import io.sparkformers.nn.bart.BartLayer;
import java.util.ArrayList;
import java.util.List;

/**
 * Port of HF {@code MarianEncoder} and {@code MarianDecoder}: token embeddings (shared table, times sqrt(d_model)
 * with scale_embedding) plus sinusoidal positions {@code [P, P + T)} (HF {@code MarianSinusoidalPositionalEmbedding}:
 * sines in the first half of each row, cosines in the second, a function, not weights), dropout, then
 * {@code layers.0 … layers.(L-1)} ({@link BartLayer}: Marian's layers are BART's). No layernorm_embedding.
 */
final class MarianStack extends HfBlock {

    private final BartConfig config;
    private final float embedScale;
    private final float[] sinusoids;
    private final List<BartLayer> layers = new ArrayList<>();
    private final Dropout dropout;

    MarianStack(BartConfig c, boolean decoder) {
        config = c;
        embedScale = c.scaleEmbedding() ? (float) Math.sqrt(c.dModel()) : 1f;
        sinusoids = sinusoids(c.maxPositionEmbeddings(), c.dModel());
        int n = decoder ? c.decoderLayers() : c.encoderLayers();
        for (int i = 0; i < n; i++) layers.add(addChildBlock("layers." + i, new BartLayer(c, decoder)));
        dropout = addChildBlock(
                "dropout", Dropout.builder().optRate((float) c.dropout()).build());
    }

    /** HF's table (n, dim) row-major: row p holds sin(p / 10000^(2i/dim)) for i < dim/2, then the cosines. */
    static float[] sinusoids(int n, int dim) {
        float[] out = new float[n * dim];
        int sentinel = dim % 2 == 0 ? dim / 2 : dim / 2 + 1;
        for (int p = 0; p < n; p++) {
            for (int j = 0; j < dim; j++) {
                double angle = p / Math.pow(10000, 2 * (j / 2) / (double) dim);
                if (j % 2 == 0) out[p * dim + j / 2] = (float) Math.sin(angle);
                else out[p * dim + sentinel + j / 2] = (float) Math.cos(angle);
            }
        }
        return out;
    }

    List<BartLayer> layers() {
        return layers;
    }

    /** As {@code BartStack.forward}: tokens (B, T, D) from the shared table after P cached positions. */
    NDArray forward(
            ParameterStore ps,
            NDArray tokens,
            long past,
            NDArray selfMask,
            NDArray[][] selfKv,
            NDArray[][] crossKv,
            NDArray crossMask,
            boolean training) {
        int t = (int) tokens.getShape().get(1);
        int d = config.dModel();
        if (past + t > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("sequence length " + (past + t) + " exceeds max_position_embeddings "
                    + config.maxPositionEmbeddings());
        }
        float[] rows = new float[t * d];
        System.arraycopy(sinusoids, (int) past * d, rows, 0, t * d);
        NDArray positions = tokens.getManager().create(rows, new Shape(t, d)); // (T, D)
        NDArray x = call(dropout, ps, training, tokens.mul(embedScale).add(positions)); // (B, T, D)
        for (int i = 0; i < layers.size(); i++) {
            x = layers.get(i)
                    .forward(ps, x, selfMask, selfKv[i], crossKv == null ? null : crossKv[i], crossMask, training);
        }
        return x;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        throw new UnsupportedOperationException("MarianStack runs inside MarianMTModel");
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0].add(config.dModel())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape x = new Shape(1, 1, config.dModel());
        for (BartLayer l : layers) l.initialize(manager, dataType, x);
        dropout.initialize(manager, dataType, x);
    }
}
