package io.sparkformers.nn.t5;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.DerivedWeights;
import io.sparkformers.nn.Embedding;
import io.sparkformers.nn.FusedProjection;
import io.sparkformers.nn.HfBlock;
import io.sparkformers.nn.NoGrad;

/**
 * Port of HF {@code T5Attention}: q, k, v, o without biases, no 1/sqrt(d) scaling (folded into T5's init),
 * softmax(q k^T + position_bias) v where position_bias carries the mask. The first block's self-attention owns
 * {@code relative_attention_bias} (buckets × heads), from which {@link #computeBias} builds the bias every block of
 * the stack reuses: bidirectional buckets in the encoder, causal ones in the decoder. Self-attention inference without
 * autograd runs one fused (3·inner, D) projection instead of q, k and v, as {@code BartAttention} does (one GEMM per
 * layer and decoded token instead of three); the fused copy is derived at the first such forward and dropped by a
 * training forward or a checkpoint load.
 */
final class T5Attention extends HfBlock implements DerivedWeights {

    private final T5Config config;
    private final boolean decoder;
    private final int heads;
    private final int dKv;
    private final Linear q;
    private final Linear k;
    private final Linear v;
    private final Linear o;
    private final Embedding relativeAttentionBias;
    private final Dropout dropout;
    /** q, k and v weights stacked (3·inner, D), stored (D, 3·inner); null until derived. */
    private volatile NDArray fused;

    T5Attention(T5Config c, boolean decoder, boolean hasRelativeAttentionBias) {
        config = c;
        this.decoder = decoder;
        heads = c.numHeads();
        dKv = c.dKv();
        long inner = (long) c.numHeads() * c.dKv();
        q = addChildBlock("q", linear(inner));
        k = addChildBlock("k", linear(inner));
        v = addChildBlock("v", linear(inner));
        o = addChildBlock("o", linear(c.dModel()));
        relativeAttentionBias = hasRelativeAttentionBias
                ? addChildBlock(
                        "relative_attention_bias", new Embedding(c.relativeAttentionNumBuckets(), c.numHeads(), null))
                : null;
        dropout = addChildBlock(
                "dropout", Dropout.builder().optRate((float) c.dropoutRate()).build());
    }

    static Linear linear(long units) {
        return Linear.builder().setUnits(units).optBias(false).build();
    }

    /** Keys and values of {@code states} (B, L, D): {k, v} each (B, nh, L, d_kv). */
    NDArray[] keysValues(ParameterStore ps, NDArray states, boolean training) {
        return new NDArray[] {heads(call(k, ps, training, states)), heads(call(v, ps, training, states))};
    }

    /**
     * Self-attention's {q, k, v} of {@code x} (B, T, D), each (B, nh, T, d_kv); one fused projection in inference
     * without autograd (strided views of its output).
     */
    NDArray[] queryKeyValue(ParameterStore ps, NDArray x, boolean training) {
        if (training) {
            weightsChanged();
        } else if (!NoGrad.isGradMode()) {
            NDList qkv = x.matMul(fused(ps, x).transpose()).split(3, 2); // (B, T, 3·inner) -> 3 × (B, T, inner)
            return new NDArray[] {heads(qkv.get(0)), heads(qkv.get(1)), heads(qkv.get(2))};
        }
        NDArray[] kv = keysValues(ps, x, training);
        return new NDArray[] {heads(call(q, ps, training, x)), kv[0], kv[1]};
    }

    /**
     * @param x    (B, T, D)
     * @param kv   keys and values (B, nh, L, d_kv)
     * @param bias position bias plus mask, broadcastable to (B, nh, T, L)
     * @return (B, T, D)
     */
    NDArray attend(ParameterStore ps, NDArray x, NDArray[] kv, NDArray bias, boolean training) {
        return attendHeads(ps, heads(call(q, ps, training, x)), kv, bias, training);
    }

    /**
     * @param query queries (B, nh, T, d_kv), from {@link #queryKeyValue}
     * @param kv    keys and values (B, nh, L, d_kv)
     * @param bias  position bias plus mask, broadcastable to (B, nh, T, L)
     * @return (B, T, D)
     */
    NDArray attendHeads(ParameterStore ps, NDArray query, NDArray[] kv, NDArray bias, boolean training) {
        long b = query.getShape().get(0);
        long t = query.getShape().get(2);
        NDArray scores = query.matMul(kv[0].transpose(0, 1, 3, 2)); // (B, nh, T, L)
        if (bias != null) scores = scores.add(bias);
        NDArray probs = call(dropout, ps, training, scores.softmax(-1));
        NDArray context = probs.matMul(kv[1]) // (B, nh, T, d_kv)
                .transpose(0, 2, 1, 3) // -> (B, T, nh, d_kv)
                .reshape(b, t, (long) heads * dKv); // -> (B, T, inner)
        return call(o, ps, training, context);
    }

    /**
     * HF {@code compute_bias}: the learned bias of each (query, key) distance bucket, queries at positions
     * {@code [past, past + t)} and keys at {@code [0, keys)}. (1, nh, T, K).
     */
    NDArray computeBias(ParameterStore ps, NDManager manager, long past, long t, long keys, boolean training) {
        long[] buckets = new long[(int) (t * keys)];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < keys; j++) {
                buckets[(int) (i * keys + j)] = relativePositionBucket(
                        (int) (j - (past + i)),
                        !decoder,
                        config.relativeAttentionNumBuckets(),
                        config.relativeAttentionMaxDistance());
            }
        }
        NDArray values = call(relativeAttentionBias, ps, training, manager.create(buckets, new Shape(t, keys)));
        return values.transpose(2, 0, 1).expandDims(0); // (T, K, nh) -> (1, nh, T, K)
    }

    /**
     * HF {@code _relative_position_bucket}: exact buckets for small distances, logarithmic ones up to max_distance;
     * bidirectional splits the buckets between keys before and after the query. Float32 as torch computes it.
     */
    static int relativePositionBucket(int relative, boolean bidirectional, int numBuckets, int maxDistance) {
        int bucket = 0;
        int n = numBuckets;
        if (bidirectional) {
            n /= 2;
            if (relative > 0) bucket += n;
            relative = Math.abs(relative);
        } else {
            relative = -Math.min(relative, 0);
        }
        int maxExact = n / 2;
        if (relative < maxExact) return bucket + relative;
        float log = (float) Math.log((float) relative / maxExact);
        float scaled = log / (float) Math.log((double) maxDistance / maxExact) * (n - maxExact);
        return bucket + Math.min(maxExact + (int) scaled, n - 1);
    }

    private NDArray heads(NDArray x) {
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        return x.reshape(b, t, heads, dKv).transpose(0, 2, 1, 3); // (B, T, inner) -> (B, nh, T, d_kv)
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray[] qkv = queryKeyValue(ps, inputs.get(0), training);
        NDArray[] kv = {qkv[1], qkv[2]};
        return new NDList(attendHeads(ps, qkv[0], kv, inputs.size() > 1 ? inputs.get(1) : null, training));
    }

    private NDArray fused(ParameterStore ps, NDArray x) {
        NDArray f = fused;
        if (f != null) return f;
        synchronized (this) {
            if (fused == null) {
                // (D, 3·inner): T5 has no biases and no query scale
                NDArray[] wb = FusedProjection.build(ps, x.getDevice(), new Linear[] {q, k, v}, 1f, false, false);
                fused = wb[0];
            }
            return fused;
        }
    }

    @Override
    public synchronized void weightsChanged() {
        NDArray f = fused;
        fused = null;
        if (f != null) f.close();
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape x = new Shape(1, 1, config.dModel());
        q.initialize(manager, dataType, x);
        k.initialize(manager, dataType, x);
        v.initialize(manager, dataType, x);
        o.initialize(manager, dataType, new Shape(1, 1, (long) heads * dKv));
        if (relativeAttentionBias != null) relativeAttentionBias.initialize(manager, dataType, new Shape(1, 1));
        dropout.initialize(manager, dataType, x);
    }
}
