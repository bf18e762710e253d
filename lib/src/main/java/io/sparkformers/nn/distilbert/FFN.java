package io.sparkformers.nn.distilbert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.Activations;
import io.sparkformers.nn.HfBlock;
import java.util.function.UnaryOperator;

/** Port of HF DistilBERT {@code FFN}: dropout(lin2(act(lin1(x)))), (B, T, dim) -> (B, T, dim). */
public final class FFN extends HfBlock {

    private final int hiddenDim;
    private final UnaryOperator<NDArray> act;
    private final Dropout dropout;
    private final Linear lin1;
    private final Linear lin2;

    public FFN(DistilBertConfig c) {
        hiddenDim = c.hiddenDim();
        act = Activations.of(c.activation());
        dropout = addChildBlock(
                "dropout", Dropout.builder().optRate((float) c.dropout()).build());
        lin1 = addChildBlock("lin1", Linear.builder().setUnits(c.hiddenDim()).build());
        lin2 = addChildBlock("lin2", Linear.builder().setUnits(c.dim()).build());
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray h = act.apply(call(lin1, ps, training, inputs.head())); // (B, T, hidden_dim)
        return new NDList(call(dropout, ps, training, call(lin2, ps, training, h)));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape s = inputShapes[0];
        dropout.initialize(manager, dataType, s);
        lin1.initialize(manager, dataType, s);
        lin2.initialize(manager, dataType, s.slice(0, s.dimension() - 1).add(hiddenDim));
    }
}
