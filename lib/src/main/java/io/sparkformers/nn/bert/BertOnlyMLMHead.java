package io.sparkformers.nn.bert;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.HfBlock;

/** Port of HF {@code BertOnlyMLMHead} (the {@code cls} module): holds {@code predictions}. */
public final class BertOnlyMLMHead extends HfBlock {

    private final BertLMPredictionHead predictions;

    public BertOnlyMLMHead(BertConfig c) {
        predictions = addChildBlock("predictions", new BertLMPredictionHead(c));
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return predictions.forward(ps, inputs, training);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return predictions.getOutputShapes(inputShapes);
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        predictions.initialize(manager, dataType, inputShapes);
    }
}
