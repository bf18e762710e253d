package io.sparkformers.nn.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import io.sparkformers.nn.Activations;
import io.sparkformers.nn.LayerNorm;
import java.util.function.UnaryOperator;

/**
 * Port of HF {@code RobertaLMHead} (the {@code lm_head} module): decoder(layer_norm(gelu(dense(x)))) + bias, the
 * decoder's weight being the word embedding table (tied: no parameter of its own, so
 * {@code lm_head.decoder.weight} is never loaded; {@link TiedLMHead}). HF applies exact gelu whatever
 * {@code hidden_act} says. Inputs: hidden (B, T, H), word embedding weight (V, H). Output: prediction scores
 * (B, T, V).
 */
public final class RobertaLMHead extends TiedLMHead {

    private static final UnaryOperator<NDArray> GELU = Activations.of("gelu");

    private final Linear dense;
    private final LayerNorm layerNorm;

    public RobertaLMHead(BertConfig c) {
        super(c);
        dense = addChildBlock("dense", Linear.builder().setUnits(c.hiddenSize()).build());
        layerNorm = addChildBlock("layer_norm", new LayerNorm(c.hiddenSize(), c.layerNormEps()));
    }

    @Override
    NDArray transform(ParameterStore ps, NDArray hidden, boolean training) {
        NDArray h = GELU.apply(call(dense, ps, training, hidden)); // (B, T, H)
        return call(layerNorm, ps, training, h);
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        dense.initialize(manager, dataType, inputShapes[0]);
        layerNorm.initialize(manager, dataType, inputShapes[0]);
    }
}
