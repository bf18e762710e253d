package io.sparkformers.nn.bert;

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
import io.sparkformers.nn.LayerNorm;
import java.util.function.UnaryOperator;

/** Port of HF {@code BertPredictionHeadTransform}: LayerNorm(act(dense(x))), (B, T, H) -> (B, T, H). */
public final class BertPredictionHeadTransform extends HfBlock {

    private final UnaryOperator<NDArray> act;
    private final Linear dense;
    private final LayerNorm layerNorm;

    public BertPredictionHeadTransform(BertConfig c) {
        act = Activations.of(c.hiddenAct());
        dense = addChildBlock("dense", Linear.builder().setUnits(c.hiddenSize()).build());
        layerNorm = addChildBlock("LayerNorm", new LayerNorm(c.hiddenSize(), c.layerNormEps()));
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(call(layerNorm, ps, training, act.apply(call(dense, ps, training, inputs.head()))));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        dense.initialize(manager, dataType, inputShapes[0]);
        layerNorm.initialize(manager, dataType, inputShapes[0]);
    }
}
