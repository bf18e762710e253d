package io.sparkformers.nn.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.HfBlock;

/**
 * Port of HF {@code BertLMPredictionHead}: transform, then a decoder whose weight is the word embedding table
 * (tied: no parameter of its own, so {@code cls.predictions.decoder.weight} is never saved) plus {@code bias}.
 * Inputs: hidden (B, T, H), word embedding weight (V, H). Output: prediction scores (B, T, V).
 */
public final class BertLMPredictionHead extends HfBlock {

    private final long vocabSize;
    private final BertPredictionHeadTransform transform;
    private final Parameter bias;

    public BertLMPredictionHead(BertConfig c) {
        vocabSize = c.vocabSize();
        transform = addChildBlock("transform", new BertPredictionHeadTransform(c));
        bias = addParameter(Parameter.builder()
                .setName("bias")
                .setType(Parameter.Type.BIAS)
                .optShape(new Shape(c.vocabSize()))
                .build());
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray h = call(transform, ps, training, inputs.get(0)); // (B, T, H)
        NDArray decoder = inputs.get(1); // (V, H)
        NDArray b = ps.getValue(bias, h.getDevice(), training); // (V)
        return h.getNDArrayInternal().linear(h, decoder, b); // (B, T, V)
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape s = inputShapes[0];
        return new Shape[] {s.slice(0, s.dimension() - 1).add(vocabSize)};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        transform.initialize(manager, dataType, inputShapes[0]);
    }
}
