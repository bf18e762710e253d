package io.sparkformers.nn.distilbert;

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
import io.sparkformers.nn.ScaledDotProductAttention;

/**
 * Port of HF DistilBERT {@code MultiHeadSelfAttention} (eager path): q is scaled by 1/sqrt(dph) before the
 * product, masked scores become the dtype's minimum, then softmax, dropout, weights @ v and {@code out_lin}.
 * Inputs: x (B, T, dim), additive mask (B, 1, 1, T) of 0 / finfo.min. Adding finfo.min to any score of magnitude
 * below ~1e31 rounds to exactly finfo.min, so this equals HF's {@code masked_fill}. Output (B, T, dim).
 */
public final class MultiHeadSelfAttention extends HfBlock {

    private final int nHeads;
    private final int dimPerHead;
    private final Linear qLin;
    private final Linear kLin;
    private final Linear vLin;
    private final Linear outLin;
    private final Dropout dropout;

    public MultiHeadSelfAttention(DistilBertConfig c) {
        nHeads = c.nHeads();
        dimPerHead = c.dim() / c.nHeads();
        dropout = addChildBlock(
                "dropout",
                Dropout.builder().optRate((float) c.attentionDropout()).build());
        qLin = addChildBlock("q_lin", Linear.builder().setUnits(c.dim()).build());
        kLin = addChildBlock("k_lin", Linear.builder().setUnits(c.dim()).build());
        vLin = addChildBlock("v_lin", Linear.builder().setUnits(c.dim()).build());
        outLin = addChildBlock("out_lin", Linear.builder().setUnits(c.dim()).build());
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.get(0); // (B, T, dim)
        NDArray mask = inputs.get(1); // (B, 1, 1, T)
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        NDArray q = NativeArrays.div(
                call(qLin, ps, training, x).reshape(b, t, nHeads, dimPerHead).transpose(0, 2, 1, 3),
                Math.sqrt(dimPerHead)); // (B, T, dim) -> (B, nh, T, dph)
        NDArray k = call(kLin, ps, training, x)
                .reshape(b, t, nHeads, dimPerHead)
                .transpose(0, 2, 3, 1); // (B, T, dim) -> (B, nh, dph, T)
        NDArray v = call(vLin, ps, training, x)
                .reshape(b, t, nHeads, dimPerHead)
                .transpose(0, 2, 1, 3); // (B, T, dim) -> (B, nh, T, dph)
        NDArray weights = q.matMul(k).add(mask).softmax(-1); // (B, nh, T, T)
        NDArray context = call(dropout, ps, training, weights)
                .matMul(v) // (B, nh, T, dph)
                .transpose(0, 2, 1, 3) // (B, nh, T, dph) -> (B, T, nh, dph)
                .reshape(b, t, (long) nHeads * dimPerHead); // (B, T, nh, dph) -> (B, T, dim)
        return new NDList(call(outLin, ps, training, context));
    }

    /**
     * HF's {@code attentions} of this layer (output_attentions): the softmax weights (B, nh, T, T) for x (B, T, dim)
     * and the additive mask (B, 1, 1, T).
     */
    public NDArray probabilities(ParameterStore ps, NDArray x, NDArray mask) {
        NDArray q = NativeArrays.div(call(qLin, ps, false, x), Math.sqrt(dimPerHead)); // (B, T, dim)
        return ScaledDotProductAttention.probabilities(q, call(kLin, ps, false, x), mask, nHeads);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape s = inputShapes[0];
        dropout.initialize(manager, dataType, new Shape(s.get(0), nHeads, s.get(1), s.get(1)));
        for (Linear l : new Linear[] {qLin, kLin, vLin, outLin}) l.initialize(manager, dataType, s);
    }
}
