package io.sparkformers.nn.vision.vit;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.HfBlock;

/** Port of HF {@code ViTPooler}: tanh(dense(hidden[:, 0])). (B, T, D) -> (B, D). */
public final class ViTPooler extends HfBlock {

    private final int hiddenSize;
    private final Linear dense;

    public ViTPooler(ViTConfig c) {
        hiddenSize = c.hiddenSize();
        dense = addChildBlock("dense", Linear.builder().setUnits(c.hiddenSize()).build());
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(call(dense, ps, training, inputs.head().get(new NDIndex(":, 0")))
                .tanh()); // (B, D)
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), hiddenSize)};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        dense.initialize(manager, dataType, new Shape(inputShapes[0].get(0), hiddenSize));
    }
}
