package io.sparkformers.nn.vision.vit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.Activations;
import io.sparkformers.nn.HfBlock;
import java.util.function.UnaryOperator;

/** Port of HF {@code ViTIntermediate}: act(dense(x)), (B, T, D) -> (B, T, I). */
public final class ViTIntermediate extends HfBlock {

    private final int intermediateSize;
    private final UnaryOperator<NDArray> act;
    private final Linear dense;

    public ViTIntermediate(ViTConfig c) {
        intermediateSize = c.intermediateSize();
        act = Activations.of(c.hiddenAct());
        dense = addChildBlock(
                "dense", Linear.builder().setUnits(c.intermediateSize()).build());
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(act.apply(call(dense, ps, training, inputs.head())));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape s = inputShapes[0];
        return new Shape[] {s.slice(0, s.dimension() - 1).add(intermediateSize)};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        dense.initialize(manager, dataType, inputShapes[0]);
    }
}
