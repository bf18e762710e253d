package io.sparkformers.nn.vision.vit;

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
 * Port of HF {@code ViTSelfOutput}: dropout(dense(x)). Unlike BERT there is no residual or LayerNorm here
 * (ViT is pre-LayerNorm: {@link ViTLayer} adds the residual). (B, T, D) -> (B, T, D).
 */
public final class ViTSelfOutput extends HfBlock {

    private final Linear dense;
    private final Dropout dropout;

    public ViTSelfOutput(ViTConfig c) {
        dense = addChildBlock("dense", Linear.builder().setUnits(c.hiddenSize()).build());
        dropout = addChildBlock(
                "dropout",
                Dropout.builder().optRate((float) c.hiddenDropoutProb()).build());
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(call(dropout, ps, training, call(dense, ps, training, inputs.head())));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        dense.initialize(manager, dataType, inputShapes[0]);
        dropout.initialize(manager, dataType, inputShapes[0]);
    }
}
