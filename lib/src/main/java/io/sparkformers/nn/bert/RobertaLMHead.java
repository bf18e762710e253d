package io.sparkformers.nn.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.Activations;
import io.sparkformers.nn.HfBlock;
import io.sparkformers.nn.LayerNorm;
import java.util.function.UnaryOperator;

/**
 * Port of HF {@code RobertaLMHead} (the {@code lm_head} module): decoder(layer_norm(gelu(dense(x)))) + bias, the
 * decoder's weight being the word embedding table (tied: no parameter of its own, so
 * {@code lm_head.decoder.weight} is never loaded). HF applies exact gelu whatever {@code hidden_act} says. Inputs:
 * hidden (B, T, H), word embedding weight (V, H). Output: prediction scores (B, T, V).
 */
public final class RobertaLMHead extends HfBlock {

    private static final UnaryOperator<NDArray> GELU = Activations.of("gelu");

    private final long vocabSize;
    private final Linear dense;
    private final LayerNorm layerNorm;
    private final Parameter bias;

    public RobertaLMHead(BertConfig c) {
        vocabSize = c.vocabSize();
        dense = addChildBlock("dense", Linear.builder().setUnits(c.hiddenSize()).build());
        layerNorm = addChildBlock("layer_norm", new LayerNorm(c.hiddenSize(), c.layerNormEps()));
        bias = addParameter(Parameter.builder()
                .setName("bias")
                .setType(Parameter.Type.BIAS)
                .optShape(new Shape(c.vocabSize()))
                .build());
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray h = GELU.apply(call(dense, ps, training, inputs.get(0))); // (B, T, H)
        h = call(layerNorm, ps, training, h);
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
        dense.initialize(manager, dataType, inputShapes[0]);
        layerNorm.initialize(manager, dataType, inputShapes[0]);
    }
}
