package io.sparkformers.nn.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.HfBlock;
import io.sparkformers.nn.KvBuffer;

/**
 * Port of HF {@code LlamaDecoderLayer}, pre-norm: {@code x = x + self_attn(input_layernorm(x)); x = x +
 * mlp(post_attention_layernorm(x))}.
 */
public final class LlamaDecoderLayer extends HfBlock {

    private final LlamaRMSNorm inputLayernorm;
    private final LlamaAttention selfAttn;
    private final LlamaRMSNorm postAttentionLayernorm;
    private final LlamaMLP mlp;

    public LlamaDecoderLayer(LlamaConfig c) {
        selfAttn = addChildBlock("self_attn", new LlamaAttention(c));
        mlp = addChildBlock("mlp", new LlamaMLP(c));
        inputLayernorm = addChildBlock("input_layernorm", new LlamaRMSNorm(c.hiddenSize(), c.rmsNormEps()));
        postAttentionLayernorm =
                addChildBlock("post_attention_layernorm", new LlamaRMSNorm(c.hiddenSize(), c.rmsNormEps()));
    }

    /** (B, T, H) -> (B, T, H); {@code cache} and {@code layer} as {@link LlamaAttention#forward}. */
    NDArray forward(
            ParameterStore ps,
            NDArray x,
            NDArray cos,
            NDArray sin,
            NDArray mask,
            KvBuffer cache,
            int layer,
            boolean training) {
        NDArray h = x.add(
                selfAttn.forward(ps, call(inputLayernorm, ps, training, x), cos, sin, mask, cache, layer, training));
        return h.add(call(mlp, ps, training, call(postAttentionLayernorm, ps, training, h)));
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray mask = inputs.size() > 3 ? inputs.get(3) : null;
        return new NDList(forward(ps, inputs.get(0), inputs.get(1), inputs.get(2), mask, null, 0, training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape x = inputShapes[0];
        selfAttn.initialize(manager, dataType, x);
        mlp.initialize(manager, dataType, x);
        inputLayernorm.initialize(manager, dataType, x);
        postAttentionLayernorm.initialize(manager, dataType, x);
    }
}
