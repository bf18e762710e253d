package io.sparkformers.nn.gpt2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.HfBlock;
import io.sparkformers.nn.NativeArrays;

/**
 * Port of HF {@code GPT2Attention} (self-attention, eager path): c_attn projects to q, k, v at once; the new keys and
 * values are appended to the layer's cached ones; softmax(q k^T / sqrt(hs) + mask) v; c_proj; dropout. Inputs:
 * x (B, T, n_embd) and the additive mask (B, 1, T, P + T) that joins causality and padding. Output (B, T, n_embd).
 */
public final class GPT2Attention extends HfBlock {

    private final int nEmbd;
    private final int nHead;
    private final int headSize;
    private final float scale;
    private final Conv1D cAttn;
    private final Conv1D cProj;
    private final Dropout attnDropout;
    private final Dropout residDropout;

    public GPT2Attention(GPT2Config c) {
        nEmbd = c.nEmbd();
        nHead = c.nHead();
        headSize = c.headSize();
        scale = c.scaleAttnWeights() ? (float) (1.0 / Math.sqrt(headSize)) : 1f;
        cAttn = addChildBlock("c_attn", new Conv1D(3L * c.nEmbd(), c.nEmbd()));
        cProj = addChildBlock("c_proj", new Conv1D(c.nEmbd(), c.nEmbd()));
        attnDropout = addChildBlock(
                "attn_dropout", Dropout.builder().optRate((float) c.attnPdrop()).build());
        residDropout = addChildBlock(
                "resid_dropout",
                Dropout.builder().optRate((float) c.residPdrop()).build());
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(attend(ps, inputs.get(0), inputs.get(1), null, 0, training));
    }

    /**
     * Attention over the cached positions and the new ones.
     *
     * @param cache the cache to read and grow at {@code layer}, or null (no earlier positions, nothing kept)
     */
    NDArray attend(ParameterStore ps, NDArray x, NDArray mask, GPT2Cache cache, int layer, boolean training) {
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        NDList qkv = call(cAttn, ps, training, x).split(3, 2); // (B, T, 3D) -> 3 × (B, T, D)
        NDArray q = NativeArrays.mul(heads(qkv.get(0), b, t), scale); // (B, nh, T, hs)
        NDArray k = heads(qkv.get(1), b, t);
        NDArray v = heads(qkv.get(2), b, t);
        if (cache != null) {
            NDList kv = cache.append(layer, k, v); // (B, nh, P + T, hs) each
            k = kv.get(0);
            v = kv.get(1);
        }
        NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)); // (B, nh, T, P + T)
        scores.addi(mask);
        NDArray probs = call(attnDropout, ps, training, scores.softmax(-1));
        NDArray context = probs.matMul(v) // (B, nh, T, hs)
                .transpose(0, 2, 1, 3) // (B, nh, T, hs) -> (B, T, nh, hs)
                .reshape(b, t, nEmbd); // (B, T, nh, hs) -> (B, T, D)
        return call(residDropout, ps, training, call(cProj, ps, training, context));
    }

    private NDArray heads(NDArray x, long b, long t) {
        return x.reshape(b, t, nHead, headSize).transpose(0, 2, 1, 3); // (B, T, D) -> (B, nh, T, hs)
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape x = inputShapes[0];
        cAttn.initialize(manager, dataType, x);
        cProj.initialize(manager, dataType, x);
        attnDropout.initialize(manager, dataType, x);
        residDropout.initialize(manager, dataType, x);
    }
}
