package io.sparkformers.nn.vision.vit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.HfBlock;
import io.sparkformers.nn.LayerNorm;

/**
 * Port of HF {@code ViTLayer}, pre-LayerNorm: {@code x = x + attention(layernorm_before(x))}, then
 * {@code x = output(intermediate(layernorm_after(x)), x)}. (B, T, D) -> (B, T, D).
 */
public final class ViTLayer extends HfBlock {

    private final LayerNorm layernormBefore;
    private final ViTAttention attention;
    private final ViTIntermediate intermediate;
    private final ViTOutput output;
    private final LayerNorm layernormAfter;

    public ViTLayer(ViTConfig c) {
        // registered in HF's order: attention, intermediate, output, layernorm_before, layernorm_after
        attention = addChildBlock("attention", new ViTAttention(c));
        intermediate = addChildBlock("intermediate", new ViTIntermediate(c));
        output = addChildBlock("output", new ViTOutput(c));
        layernormBefore = addChildBlock("layernorm_before", new LayerNorm(c.hiddenSize(), c.layerNormEps()));
        layernormAfter = addChildBlock("layernorm_after", new LayerNorm(c.hiddenSize(), c.layerNormEps()));
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.head(); // (B, T, D)
        x = x.add(call(attention, ps, training, call(layernormBefore, ps, training, x)));
        NDArray h = call(intermediate, ps, training, call(layernormAfter, ps, training, x)); // (B, T, I)
        return output.forward(ps, new NDList(h, x), training); // (B, T, D)
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape x = inputShapes[0];
        attention.initialize(manager, dataType, x);
        intermediate.initialize(manager, dataType, x);
        output.initialize(manager, dataType, intermediate.getOutputShapes(inputShapes)[0], x);
        layernormBefore.initialize(manager, dataType, x);
        layernormAfter.initialize(manager, dataType, x);
    }
}
