package io.sparkformers.nn.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.HfBlock;

/** Port of HF {@code BertPooler}: tanh(dense(hidden[:, 0])), (B, T, H) -> (B, H). */
public final class BertPooler extends HfBlock {

    private final Linear dense;

    public BertPooler(BertConfig c) {
        dense = addChildBlock("dense", Linear.builder().setUnits(c.hiddenSize()).build());
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray first = inputs.head().get(new NDIndex(":, 0")); // (B, T, H) -> (B, H)
        return new NDList(call(dense, ps, training, first).tanh());
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape s = inputShapes[0];
        return new Shape[] {new Shape(s.get(0), s.get(2))};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape s = inputShapes[0];
        dense.initialize(manager, dataType, new Shape(s.get(0), s.get(2)));
    }
}
