package io.sparkformers.nn.distilbert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.HfBlock;
import io.sparkformers.nn.LayerNorm;

/**
 * Port of HF DistilBERT {@code TransformerBlock} (post-LayerNorm): a = sa_layer_norm(attention(x) + x);
 * out = output_layer_norm(ffn(a) + a). Inputs: x (B, T, dim), additive mask (B, 1, 1, T). Output (B, T, dim).
 */
public final class TransformerBlock extends HfBlock {

    private final MultiHeadSelfAttention attention;
    private final LayerNorm saLayerNorm;
    private final FFN ffn;
    private final LayerNorm outputLayerNorm;

    public TransformerBlock(DistilBertConfig c) {
        attention = addChildBlock("attention", new MultiHeadSelfAttention(c));
        saLayerNorm = addChildBlock("sa_layer_norm", new LayerNorm(c.dim(), DistilBertConfig.LAYER_NORM_EPS));
        ffn = addChildBlock("ffn", new FFN(c));
        outputLayerNorm = addChildBlock("output_layer_norm", new LayerNorm(c.dim(), DistilBertConfig.LAYER_NORM_EPS));
    }

    public MultiHeadSelfAttention attention() {
        return attention;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.get(0); // (B, T, dim)
        NDArray a = call(
                saLayerNorm,
                ps,
                training,
                attention.forward(ps, inputs, training).head().add(x));
        return new NDList(
                call(outputLayerNorm, ps, training, call(ffn, ps, training, a).add(a)));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        attention.initialize(manager, dataType, inputShapes);
        saLayerNorm.initialize(manager, dataType, inputShapes[0]);
        ffn.initialize(manager, dataType, inputShapes[0]);
        outputLayerNorm.initialize(manager, dataType, inputShapes[0]);
    }
}
