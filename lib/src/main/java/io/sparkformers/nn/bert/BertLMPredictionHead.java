package io.sparkformers.nn.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;

/**
 * Port of HF {@code BertLMPredictionHead}: transform, then a decoder whose weight is the word embedding table
 * (tied: no parameter of its own, so {@code cls.predictions.decoder.weight} is never saved) plus {@code bias}
 * ({@link TiedLMHead}). Inputs: hidden (B, T, H), word embedding weight (V, H). Output: prediction scores (B, T, V).
 */
public final class BertLMPredictionHead extends TiedLMHead {

    private final BertPredictionHeadTransform transform;

    public BertLMPredictionHead(BertConfig c) {
        super(c);
        transform = addChildBlock("transform", new BertPredictionHeadTransform(c));
    }

    @Override
    NDArray transform(ParameterStore ps, NDArray hidden, boolean training) {
        return call(transform, ps, training, hidden); // (B, T, H)
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        transform.initialize(manager, dataType, inputShapes[0]);
    }
}
