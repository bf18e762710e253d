package io.sparkformers.nn.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.DerivedWeights;
import io.sparkformers.nn.HfBlock;
import io.sparkformers.nn.KvBuffer;
import io.sparkformers.nn.NativeArrays;

/**
 * Port of HF {@code LlamaAttention} (also Mistral's and Qwen2's, which differ only in biases and the window their
 * mask carries), eager path: rotary q and k, grouped-query attention over the cached and new keys, softmax(q k^T /
 * sqrt(hd) + mask) v, o_proj. HF's {@code repeat_kv} copies every key/value head {@code nh / nkv} times; here the
 * {@code nh / nkv} query heads of a group are stacked along the time axis instead and share one key/value head in a
 * single product — the same sums, without the copy. In inference the q/k/v projections run as one GEMM over a
 * shared weight storage, and o_proj over its weight in the same layout ({@link SharedProjection}).
 */
public final class LlamaAttention extends HfBlock implements DerivedWeights {

    private final LlamaConfig config;
    private final Linear qProj;
    private final Linear kProj;
    private final Linear vProj;
    private final Linear oProj;
    private final SharedProjection qkv;
    private final SharedProjection out;

    public LlamaAttention(LlamaConfig c) {
        config = c;
        qProj = addChildBlock("q_proj", LlamaMLP.linear((long) c.numAttentionHeads() * c.headDim(), c.qkvBias()));
        kProj = addChildBlock("k_proj", LlamaMLP.linear((long) c.numKeyValueHeads() * c.headDim(), c.qkvBias()));
        vProj = addChildBlock("v_proj", LlamaMLP.linear((long) c.numKeyValueHeads() * c.headDim(), c.qkvBias()));
        oProj = addChildBlock("o_proj", LlamaMLP.linear(c.hiddenSize(), c.outputBias()));
        qkv = new SharedProjection(qProj, kProj, vProj);
        out = new SharedProjection(oProj);
    }

    /**
     * @param x    (B, T, H)
     * @param cos  (B, 1, T, hd) from {@link LlamaRotaryEmbedding#cosSin}
     * @param sin  (B, 1, T, hd)
     * @param mask additive (B, 1, T, P + T): 0 where a query may attend, the float minimum elsewhere; or null
     * @param cache the keys and values of earlier positions, written with this layer's new ones; or null (none
     *              kept)
     * @param layer this layer's index in {@code cache}
     * @return (B, T, H)
     */
    NDArray forward(
            ParameterStore ps,
            NDArray x,
            NDArray cos,
            NDArray sin,
            NDArray mask,
            KvBuffer cache,
            int layer,
            boolean training) {
        Shape xs = x.getShape(); // each getShape() is a JNI call and a new Shape: read once
        long b = xs.get(0);
        long t = xs.get(1);
        int nh = config.numAttentionHeads();
        int nkv = config.numKeyValueHeads();
        int hd = config.headDim();
        boolean shared = SharedProjection.applies(ps, x, training);
        if (training) unshare(ps, x);
        NDArray q;
        NDArray k;
        NDArray v;
        if (shared) {
            NDArray fused = qkv.apply(ps, x); // (B, T, (nh + 2·nkv)·hd): q, k, v side by side
            long qw = (long) nh * hd;
            long kw = (long) nkv * hd;
            q = fused.get(NDIndex.sliceAxis(2, 0, qw));
            k = fused.get(NDIndex.sliceAxis(2, qw, qw + kw));
            v = fused.get(NDIndex.sliceAxis(2, qw + kw, qw + 2 * kw));
        } else {
            q = call(qProj, ps, training, x);
            k = call(kProj, ps, training, x);
            v = call(vProj, ps, training, x);
        }
        q = q.reshape(b, t, nh, hd).transpose(0, 2, 1, 3); // (B, T, nh·hd) -> (B, nh, T, hd)
        k = k.reshape(b, t, nkv, hd).transpose(0, 2, 1, 3); // (B, T, nkv·hd) -> (B, nkv, T, hd)
        v = v.reshape(b, t, nkv, hd).transpose(0, 2, 1, 3); // (B, T, nkv·hd) -> (B, nkv, T, hd)
        q = LlamaRotaryEmbedding.apply(q, cos, sin);
        k = LlamaRotaryEmbedding.apply(k, cos, sin);
        if (cache != null) {
            NDList kv = cache.append(layer, k, v); // views (B, nkv, P + T, hd)
            k = kv.get(0);
            v = kv.get(1);
        }
        long s = cache == null ? t : cache.length() + t; // positions attended: P + T
        long rep = nh / nkv;
        NDArray qg = q.reshape(b, nkv, rep * t, hd); // (B, nh, T, hd) -> (B, nkv, rep·T, hd): heads of a group stacked
        NDArray scores = NativeArrays.mul(
                        qg.matMul(k.transpose(0, 1, 3, 2)), (float) (1.0 / Math.sqrt(hd))) // (B, nkv, rep·T, S)
                .reshape(b, nh, t, s); // -> (B, nh, T, S)
        if (mask != null) scores = scores.add(mask);
        NDArray probs = scores.softmax(-1).reshape(b, nkv, rep * t, s); // -> (B, nkv, rep·T, S)
        NDArray context = probs.matMul(v) // (B, nkv, rep·T, hd)
                .reshape(b, nh, t, hd) // -> (B, nh, T, hd)
                .transpose(0, 2, 1, 3) // -> (B, T, nh, hd)
                .reshape(b, t, (long) nh * hd); // -> (B, T, nh·hd)
        return shared ? out.apply(ps, context) : call(oProj, ps, training, context); // (B, T, H)
    }

    private void unshare(ParameterStore ps, NDArray x) {
        qkv.unshare(ps, x);
        out.unshare(ps, x);
    }

    @Override
    public void weightsChanged() {
        qkv.weightsChanged();
        out.weightsChanged();
    }

    /** Inputs: x (B, T, H), cos, sin, mask as {@link #forward}; no cache. */
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
        Shape lead = x.slice(0, x.dimension() - 1);
        qProj.initialize(manager, dataType, x);
        kProj.initialize(manager, dataType, x);
        vProj.initialize(manager, dataType, x);
        oProj.initialize(manager, dataType, lead.add((long) config.numAttentionHeads() * config.headDim()));
    }
}
