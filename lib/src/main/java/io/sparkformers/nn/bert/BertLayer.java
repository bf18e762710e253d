package io.sparkformers.nn.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.HfBlock;

/**
 * Port of HF {@code BertLayer} (post-LayerNorm): a = attention(x); out = output(intermediate(a), a).
 * Inputs: hidden_states (B, T, H), extended mask (B, 1, 1, T) unless nothing is padding. Output (B, T, H).
 */
public final class BertLayer extends HfBlock {

    private final BertAttention attention;
    private final BertIntermediate intermediate;
    private final BertOutput output;

    public BertLayer(BertConfig c) {
        attention = addChildBlock("attention", new BertAttention(c));
        intermediate = addChildBlock("intermediate", new BertIntermediate(c));
        output = addChildBlock("output", new BertOutput(c));
    }

    public BertAttention attention() {
        return attention;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray a = attention.forward(ps, inputs, training).head(); // (B, T, H)
        NDArray i = call(intermediate, ps, training, a); // (B, T, I)
        return output.forward(ps, new NDList(i, a), training);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        attention.initialize(manager, dataType, inputShapes);
        intermediate.initialize(manager, dataType, inputShapes[0]);
        output.initialize(manager, dataType, intermediate.getOutputShapes(inputShapes)[0], inputShapes[0]);
    }
}
