package io.sparkformers.nn.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.Bf16Linear;
import io.sparkformers.nn.DerivedWeights;
import io.sparkformers.nn.FusedProjection;
import io.sparkformers.nn.HfBlock;
import io.sparkformers.nn.InferenceLinear;
import io.sparkformers.nn.NativeArrays;
import io.sparkformers.nn.NoGrad;
import io.sparkformers.nn.ScaledDotProductAttention;
import io.sparkformers.nn.SdpaKernel;

/**
 * Port of HF {@code BertSelfAttention} (eager path, absolute positions only): softmax(Q K^T / sqrt(hs) + mask) V.
 * Inputs: hidden_states (B, T, H), then the extended attention mask (B, 1, 1, T) holding 0 or the dtype's minimum,
 * absent when nothing is padding.
 * Output: context (B, T, H). Inference without autograd runs one fused (3H, H) projection instead of the three
 * (one larger GEMM, and the query scale folded into its weights), its weight stored (H, 3H) as {@link InferenceLinear}
 * explains; the parameters keep HF's names, and the fused copy is derived at the first such forward and dropped by a
 * training forward or a checkpoint load. On a CPU that inference forward attends by {@link SdpaKernel} (torch's
 * scaled_dot_product_attention, HF's "sdpa"), elsewhere by the eager path.
 */
public final class BertSelfAttention extends HfBlock implements DerivedWeights {

    private final int numHeads;
    private final Linear query;
    private final Linear key;
    private final Linear value;
    private final Dropout dropout;
    /** {weight (3H, H), bias (3H)}: query rows pre-scaled, then key, then value; null until derived. */
    private volatile NDArray[] fused;
    /** Whether the fused projection runs in BF16 ({@link io.sparkformers.nn.Bf16Linear}, {@link #computeIn}). */
    private volatile boolean bf16;

    public BertSelfAttention(BertConfig c) {
        numHeads = c.numAttentionHeads();
        query = addChildBlock("query", Linear.builder().setUnits(c.hiddenSize()).build());
        key = addChildBlock("key", Linear.builder().setUnits(c.hiddenSize()).build());
        value = addChildBlock("value", Linear.builder().setUnits(c.hiddenSize()).build());
        dropout = addChildBlock(
                "dropout",
                Dropout.builder().optRate((float) c.attentionProbsDropoutProb()).build());
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.get(0); // (B, T, H)
        NDArray mask = inputs.size() > 1 ? inputs.get(1) : null; // (B, 1, 1, T), null: no padding
        if (training) {
            weightsChanged();
        } else if (!NoGrad.isGradMode()) {
            NDArray[] f = fused(ps, x);
            NDArray packed =
                    bf16 ? Bf16Linear.apply(x, f[0], f[1]) : InferenceLinear.apply(x, f[0], f[1]); // (B, T, 3H)
            if (SdpaKernel.available(x.getDevice())) {
                return new NDList(SdpaKernel.attend(packed, mask, numHeads)); // (B, T, H)
            }
            NDList qkv = packed.split(3, 2); // 3 × (B, T, H), strided views
            return new NDList(
                    ScaledDotProductAttention.attendScaled(qkv.get(0), qkv.get(1), qkv.get(2), mask, numHeads, p -> p));
        }
        NDArray context = ScaledDotProductAttention.attend(
                call(query, ps, training, x),
                call(key, ps, training, x),
                call(value, ps, training, x),
                mask,
                numHeads,
                p -> call(dropout, ps, training, p)); // (B, T, H)
        return new NDList(context);
    }

    /** The query, key and value projections, in that order (the fused weight's order). */
    Linear[] projections() {
        return new Linear[] {query, key, value};
    }

    int numHeads() {
        return numHeads;
    }

    /**
     * HF's {@code attentions} of this layer (output_attentions): softmax(Q K^T / sqrt(hs) + mask), (B, nh, T, T), for
     * hidden_states (B, T, H) and the mask as {@link #forward} takes them (null: no padding).
     */
    public NDArray probabilities(ParameterStore ps, NDArray x, NDArray mask) {
        long hs = x.getShape().get(2) / numHeads;
        NDArray q = NativeArrays.mul(call(query, ps, false, x), ScaledDotProductAttention.scale(hs)); // (B, T, H)
        return ScaledDotProductAttention.probabilities(q, call(key, ps, false, x), mask, numHeads);
    }

    private NDArray[] fused(ParameterStore ps, NDArray x) {
        NDArray[] f = fused;
        if (f != null) return f;
        synchronized (this) {
            if (fused == null) {
                NDArray wq = ps.getValue(query.getParameters().get("weight"), x.getDevice(), false);
                float scale = ScaledDotProductAttention.scale(wq.getShape().get(0) / numHeads);
                fused = FusedProjection.build(
                        ps, x.getDevice(), new Linear[] {query, key, value}, scale, true, bf16); // (H, 3H)
            }
            return fused;
        }
    }

    @Override
    public synchronized void computeIn(io.sparkformers.nn.ComputeDtype dtype) {
        weightsChanged();
        bf16 = dtype == io.sparkformers.nn.ComputeDtype.BF16;
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
        query.initialize(manager, dataType, inputShapes[0]);
        key.initialize(manager, dataType, inputShapes[0]);
        value.initialize(manager, dataType, inputShapes[0]);
        Shape s = inputShapes[0];
        dropout.initialize(manager, dataType, new Shape(s.get(0), numHeads, s.get(1), s.get(1)));
    }
}
