package io.sparkformers.nn.bart;

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
import io.sparkformers.nn.FusedProjection;
import io.sparkformers.nn.HfBlock;
import io.sparkformers.nn.InferenceLinear;
import io.sparkformers.nn.NativeArrays;
import io.sparkformers.nn.NoGrad;

/**
 * Port of HF {@code BartAttention} (eager path), self- or cross-attention: q_proj(x) · head_dim^-0.5, keys and
 * values projected from x (self) or from the encoder states (cross, once per input: see {@link #keysValues}),
 * softmax(q k^T + mask) v, out_proj. Every projection has a bias. Self-attention inference without autograd runs one
 * fused (3D, D) projection instead of q_proj, k_proj and v_proj (one GEMM, and one parallel region of libtorch's
 * thread pool instead of three per decoded token: on a loaded machine each region waits for a thread to be scheduled),
 * the query scale folded into its rows and the weight stored (D, 3D) as {@link InferenceLinear} explains; the
 * parameters keep HF's names, and the fused copy (3 D² floats per self-attention) is derived at the first such forward
 * and dropped by a training forward or a checkpoint load, as in {@code BertSelfAttention}.
 */
public final class BartAttention extends HfBlock implements DerivedWeights {

    private final int dModel;
    private final int heads;
    private final int headDim;
    private final float scaling;
    private final Linear kProj;
    private final Linear vProj;
    private final Linear qProj;
    private final Linear outProj;
    private final Dropout dropout;
    /** {weight (3D, D) stored (D, 3D), bias (3D)}: q rows pre-scaled, then k, then v; null until derived. */
    private volatile NDArray[] fused;

    BartAttention(BartConfig c, int heads) {
        dModel = c.dModel();
        this.heads = heads;
        headDim = c.dModel() / heads;
        scaling = (float) Math.pow(headDim, -0.5);
        kProj = addChildBlock("k_proj", linear(c.dModel()));
        vProj = addChildBlock("v_proj", linear(c.dModel()));
        qProj = addChildBlock("q_proj", linear(c.dModel()));
        outProj = addChildBlock("out_proj", linear(c.dModel()));
        dropout = addChildBlock(
                "dropout",
                Dropout.builder().optRate((float) c.attentionDropout()).build());
    }

    static Linear linear(long units) {
        return Linear.builder().setUnits(units).optBias(true).build();
    }

    /** Keys and values of {@code states} (B, L, D): {k, v} each (B, nh, L, hd). */
    public NDArray[] keysValues(ParameterStore ps, NDArray states, boolean training) {
        return new NDArray[] {heads(call(kProj, ps, training, states)), heads(call(vProj, ps, training, states))};
    }

    /**
     * Self-attention's queries, keys and values of {@code x} (B, T, D): {q · head_dim^-0.5, k, v} each (B, nh, T, hd);
     * one fused projection in inference without autograd (strided views of its output).
     */
    NDArray[] queryKeyValue(ParameterStore ps, NDArray x, boolean training) {
        if (training) {
            weightsChanged();
        } else if (!NoGrad.isGradMode()) {
            NDArray[] f = fused(ps, x);
            NDList qkv = InferenceLinear.apply(x, f[0], f[1]).split(3, 2); // (B, T, 3D) -> 3 × (B, T, D) views
            return new NDArray[] {heads(qkv.get(0)), heads(qkv.get(1)), heads(qkv.get(2))};
        }
        NDArray[] kv = keysValues(ps, x, training);
        return new NDArray[] {query(ps, x, training), kv[0], kv[1]};
    }

    /** q_proj(x) · head_dim^-0.5 for x (B, T, D): (B, nh, T, hd). */
    private NDArray query(ParameterStore ps, NDArray x, boolean training) {
        return heads(NativeArrays.mul(call(qProj, ps, training, x), scaling));
    }

    /**
     * @param x    queries' hidden states (B, T, D)
     * @param k    keys (B, nh, L, hd)
     * @param v    values (B, nh, L, hd)
     * @param mask additive, broadcastable to (B, nh, T, L), or null
     * @return (B, T, D)
     */
    NDArray attend(ParameterStore ps, NDArray x, NDArray k, NDArray v, NDArray mask, boolean training) {
        return attendHeads(ps, query(ps, x, training), k, v, mask, training);
    }

    /**
     * @param q    scaled queries (B, nh, T, hd), from {@link #queryKeyValue}
     * @param k    keys (B, nh, L, hd)
     * @param v    values (B, nh, L, hd)
     * @param mask additive, broadcastable to (B, nh, T, L), or null
     * @return (B, T, D)
     */
    NDArray attendHeads(ParameterStore ps, NDArray q, NDArray k, NDArray v, NDArray mask, boolean training) {
        long b = q.getShape().get(0);
        long t = q.getShape().get(2);
        NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)); // (B, nh, T, L)
        if (mask != null) scores = scores.add(mask);
        NDArray probs = call(dropout, ps, training, scores.softmax(-1));
        NDArray context = probs.matMul(v) // (B, nh, T, hd)
                .transpose(0, 2, 1, 3) // -> (B, T, nh, hd)
                .reshape(b, t, dModel); // -> (B, T, D)
        return call(outProj, ps, training, context);
    }

    private NDArray heads(NDArray x) {
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        return x.reshape(b, t, heads, headDim).transpose(0, 2, 1, 3); // (B, T, D) -> (B, nh, T, hd)
    }

    /** Self-attention over x (B, T, D) with an optional additive mask. */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray[] qkv = queryKeyValue(ps, inputs.get(0), training);
        return new NDList(attendHeads(ps, qkv[0], qkv[1], qkv[2], inputs.size() > 1 ? inputs.get(1) : null, training));
    }

    private NDArray[] fused(ParameterStore ps, NDArray x) {
        NDArray[] f = fused;
        if (f != null) return f;
        synchronized (this) {
            if (fused == null) {
                fused = FusedProjection.build(
                        ps, x.getDevice(), new Linear[] {qProj, kProj, vProj}, scaling, true, false); // (D, 3D)
            }
            return fused;
        }
    }

    @Override
    public synchronized void weightsChanged() {
        NDArray[] f = fused;
        fused = null;
        if (f != null) {
            f[0].close();
            f[1].close();
        }
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape x = new Shape(1, 1, dModel);
        for (Linear l : new Linear[] {kProj, vProj, qProj, outProj}) l.initialize(manager, dataType, x);
        dropout.initialize(manager, dataType, x);
    }
}
