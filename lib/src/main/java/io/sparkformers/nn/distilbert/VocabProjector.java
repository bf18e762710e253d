package io.sparkformers.nn.distilbert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.HfBlock;

/**
 * HF DistilBERT's {@code vocab_projector}, an {@code nn.Linear(dim, vocab)} whose weight is tied to the word
 * embeddings: only its {@code bias} is a parameter here. Inputs: x (B, T, dim), word table (V, dim). Output (B, T, V).
 */
public final class VocabProjector extends HfBlock {

    private final long vocabSize;
    private final Parameter bias;

    public VocabProjector(DistilBertConfig c) {
        vocabSize = c.vocabSize();
        bias = addParameter(Parameter.builder()
                .setName("bias")
                .setType(Parameter.Type.BIAS)
                .optShape(new Shape(c.vocabSize()))
                .build());
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.get(0);
        NDArray b = ps.getValue(bias, x.getDevice(), training);
        return x.getNDArrayInternal().linear(x, inputs.get(1), b);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape s = inputShapes[0];
        return new Shape[] {s.slice(0, s.dimension() - 1).add(vocabSize)};
    }

    @Override
    public void prepare(Shape[] inputShapes) {}
}
