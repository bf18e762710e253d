package io.sparkformers.nn.gpt2;

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
 * Port of HF {@code GPT2Block}, pre-LayerNorm: {@code x = x + attn(ln_1(x)); x = x + mlp(ln_2(x))}. Inputs: x
 * (B, T, n_embd) and the additive mask (B, 1, T, P + T). Output (B, T, n_embd).
 */
public final class GPT2Block extends HfBlock {

    private final LayerNorm ln1;
    private final GPT2Attention attn;
    private final LayerNorm ln2;
    private final GPT2MLP mlp;

    public GPT2Block(GPT2Config c) {
        ln1 = addChildBlock("ln_1", new LayerNorm(c.nEmbd(), c.layerNormEpsilon()));
        attn = addChildBlock("attn", new GPT2Attention(c));
        ln2 = addChildBlock("ln_2", new LayerNorm(c.nEmbd(), c.layerNormEpsilon()));
        mlp = addChildBlock("mlp", new GPT2MLP(c));
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(forward(ps, inputs.get(0), inputs.get(1), null, 0, training));
    }

    /** The block over cached positions: the cache (or null) grows at {@code layer}. */
    NDArray forward(ParameterStore ps, NDArray x, NDArray mask, GPT2Cache cache, int layer, boolean training) {
        x = x.add(attn.attend(ps, call(ln1, ps, training, x), mask, cache, layer, training));
        return x.add(call(mlp, ps, training, call(ln2, ps, training, x)));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape x = inputShapes[0];
        ln1.initialize(manager, dataType, x);
        attn.initialize(manager, dataType, inputShapes);
        ln2.initialize(manager, dataType, x);
        mlp.initialize(manager, dataType, x);
    }
}
