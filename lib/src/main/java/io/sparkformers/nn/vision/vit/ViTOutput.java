package io.sparkformers.nn.vision.vit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.HfBlock;

/**
 * Port of HF {@code ViTOutput}: dropout(dense(h)) + residual. Inputs: h (B, T, I), residual (B, T, D).
 * Output (B, T, D).
 */
public final class ViTOutput extends HfBlock {

    private final Linear dense;
    private final Dropout dropout;

    public ViTOutput(ViTConfig c) {
        dense = addChildBlock("dense", Linear.builder().setUnits(c.hiddenSize()).build());
        dropout = addChildBlock(
                "dropout",
                Dropout.builder().optRate((float) c.hiddenDropoutProb()).build());
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray h = inputs.get(0); // (B, T, I)
        NDArray residual = inputs.get(1); // (B, T, D)
        return new NDList(
                call(dropout, ps, training, call(dense, ps, training, h)).add(residual));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[1]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        dense.initialize(manager, dataType, inputShapes[0]);
        dropout.initialize(manager, dataType, inputShapes[1]);
    }
}
