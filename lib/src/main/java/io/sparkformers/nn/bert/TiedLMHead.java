package io.sparkformers.nn.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.HfBlock;

/**
 * What HF's {@code BertLMPredictionHead} and {@code RobertaLMHead} share: a transform of the hidden states, then a
 * decoder whose weight is the word embedding table (tied: no parameter of its own, so {@code decoder.weight} is never
 * saved or loaded) plus {@code bias}. Inputs: hidden (B, T, H), word embedding weight (V, H). Output: prediction
 * scores (B, T, V). Subclasses give the transform and initialise its children.
 */
abstract class TiedLMHead extends HfBlock {

    private final long vocabSize;
    private final Parameter bias;

    TiedLMHead(BertConfig c) {
        vocabSize = c.vocabSize();
        bias = addParameter(Parameter.builder()
                .setName("bias")
                .setType(Parameter.Type.BIAS)
                .optShape(new Shape(c.vocabSize()))
                .build());
    }

    /** The head's transform of hidden (B, T, H) → (B, T, H), before the tied decoder. */
    abstract NDArray transform(ParameterStore ps, NDArray hidden, boolean training);

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray h = transform(ps, inputs.get(0), training); // (B, T, H)
        NDArray decoder = inputs.get(1); // (V, H)
        NDArray b = ps.getValue(bias, h.getDevice(), training); // (V)
        return h.getNDArrayInternal().linear(h, decoder, b); // (B, T, V)
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape s = inputShapes[0];
        return new Shape[] {s.slice(0, s.dimension() - 1).add(vocabSize)};
    }
}
