package io.sparkformers.nn.vision.vit;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.HfBlock;

/** Port of HF {@code ViTAttention}: {@code attention} (self-attention) then {@code output}. (B, T, D) -> (B, T, D). */
public final class ViTAttention extends HfBlock {

    private final ViTSelfAttention attention;
    private final ViTSelfOutput output;

    public ViTAttention(ViTConfig c) {
        attention = addChildBlock("attention", new ViTSelfAttention(c));
        output = addChildBlock("output", new ViTSelfOutput(c));
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(call(output, ps, training, call(attention, ps, training, inputs.head())));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        attention.initialize(manager, dataType, inputShapes[0]);
        output.initialize(manager, dataType, inputShapes[0]);
    }
}
