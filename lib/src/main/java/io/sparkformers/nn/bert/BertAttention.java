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
 * Port of HF {@code BertAttention}: self-attention then its output projection with residual and LayerNorm.
 * Inputs: hidden_states (B, T, H), extended mask (B, 1, 1, T) unless nothing is padding. Output (B, T, H).
 */
public final class BertAttention extends HfBlock {

    private final BertSelfAttention self;
    private final BertSelfOutput output;

    public BertAttention(BertConfig c) {
        self = addChildBlock("self", new BertSelfAttention(c));
        output = addChildBlock("output", new BertSelfOutput(c));
    }

    public BertSelfAttention self() {
        return self;
    }

    BertSelfOutput output() {
        return output;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.get(0); // (B, T, H)
        NDArray context = self.forward(ps, inputs, training).head(); // (B, T, H)
        return output.forward(ps, new NDList(context, x), training);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        self.initialize(manager, dataType, inputShapes);
        output.initialize(manager, dataType, inputShapes[0], inputShapes[0]);
    }
}
