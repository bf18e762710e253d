package io.sparkformers.nn.distilbert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;
import io.sparkformers.nn.Embedding;
import io.sparkformers.nn.HfBlock;
import io.sparkformers.nn.LayerNorm;

/**
 * Port of HF DistilBERT {@code Embeddings}: word + position embeddings (no token types), LayerNorm, dropout.
 * Input: input_ids (B, T) int64. Output (B, T, dim).
 */
public final class Embeddings extends HfBlock {

    private final int dim;
    private final Embedding wordEmbeddings;
    private final Embedding positionEmbeddings;
    private final LayerNorm layerNorm;
    private final Dropout dropout;

    public Embeddings(DistilBertConfig c) {
        dim = c.dim();
        wordEmbeddings = addChildBlock("word_embeddings", new Embedding(c.vocabSize(), c.dim(), c.padTokenId()));
        Embedding positions = new Embedding(c.maxPositionEmbeddings(), c.dim(), null);
        if (c.sinusoidalPosEmbds()) positions.withFixedInitializer(sinusoids());
        positionEmbeddings = addChildBlock("position_embeddings", positions);
        layerNorm = addChildBlock("LayerNorm", new LayerNorm(c.dim(), DistilBertConfig.LAYER_NORM_EPS));
        dropout = addChildBlock(
                "dropout", Dropout.builder().optRate((float) c.dropout()).build());
    }

    public Embedding wordEmbeddings() {
        return wordEmbeddings;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray inputIds = inputs.head(); // (B, T)
        int seqLen = (int) inputIds.getShape().get(1);
        NDArray positionIds =
                inputIds.getManager().arange(0, seqLen, 1, DataType.INT64).expandDims(0); // (1, T)
        NDArray x = call(wordEmbeddings, ps, training, inputIds) // (B, T, dim)
                .add(call(positionEmbeddings, ps, training, positionIds));
        return new NDList(call(dropout, ps, training, call(layerNorm, ps, training, x)));
    }

    /** HF {@code create_sinusoidal_embeddings}: sin on even columns, cos on odd, angle pos / 10000^(2(j/2)/dim). */
    private static Initializer sinusoids() {
        return (NDManager manager, Shape shape, DataType dataType) -> {
            int n = (int) shape.get(0);
            int d = (int) shape.get(1);
            float[] table = new float[n * d];
            for (int pos = 0; pos < n; pos++) {
                for (int j = 0; j < d; j++) {
                    double angle = pos / Math.pow(10000, 2.0 * (j / 2) / d);
                    table[pos * d + j] = (float) (j % 2 == 0 ? Math.sin(angle) : Math.cos(angle));
                }
            }
            return manager.create(table, shape).toType(dataType, false);
        };
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0].add(dim)};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        wordEmbeddings.initialize(manager, dataType, inputShapes[0]);
        positionEmbeddings.initialize(manager, dataType, inputShapes[0]);
        Shape hidden = inputShapes[0].add(dim);
        layerNorm.initialize(manager, dataType, hidden);
        dropout.initialize(manager, dataType, hidden);
    }
}
