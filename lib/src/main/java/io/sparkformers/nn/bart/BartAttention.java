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
import io.sparkformers.nn.HfBlock;
import io.sparkformers.nn.NativeArrays;

/**
 * Port of HF {@code BartAttention} (eager path), self- or cross-attention: q_proj(x) · head_dim^-0.5, keys and
 * values projected from x (self) or from the encoder states (cross, once per input: see {@link #keysValues}),
 * softmax(q k^T + mask) v, out_proj. Every projection has a bias.
 */
public final class BartAttention extends HfBlock {

    private final int dModel;
    private final int heads;
    private final int headDim;
    private final float scaling;
    private final Linear kProj;
    private final Linear vProj;
    private final Linear qProj;
    private final Linear outProj;
    private final Dropout dropout;

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
     * @param x    queries' hidden states (B, T, D)
     * @param k    keys (B, nh, L, hd)
     * @param v    values (B, nh, L, hd)
     * @param mask additive, broadcastable to (B, nh, T, L), or null
     * @return (B, T, D)
     */
    NDArray attend(ParameterStore ps, NDArray x, NDArray k, NDArray v, NDArray mask, boolean training) {
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        NDArray q = heads(NativeArrays.mul(call(qProj, ps, training, x), scaling)); // (B, nh, T, hd)
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
        NDArray x = inputs.get(0);
        NDArray[] kv = keysValues(ps, x, training);
        return new NDList(attend(ps, x, kv[0], kv[1], inputs.size() > 1 ? inputs.get(1) : null, training));
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
