package io.sparkformers.nn.bert;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.AdapterStore;
import io.sparkformers.nn.Bf16Linear;
import io.sparkformers.nn.ComputeDtype;
import io.sparkformers.nn.DerivedWeights;
import io.sparkformers.nn.EncoderLayerKernel;
import io.sparkformers.nn.FusedProjection;
import io.sparkformers.nn.HfBlock;
import io.sparkformers.nn.LayerNorm;
import io.sparkformers.nn.LinearGelu;
import io.sparkformers.nn.NoGrad;
import io.sparkformers.nn.ScaledDotProductAttention;

/**
 * Port of HF {@code BertLayer} (post-LayerNorm): a = attention(x); out = output(intermediate(a), a).
 * Inputs: hidden_states (B, T, H), extended mask (B, 1, 1, T) unless nothing is padding. Output (B, T, H).
 * FP32 and BF16 inference without autograd on a CPU run the whole layer as one call of {@link EncoderLayerKernel} (HF
 * "gelu" activation, no adapter store), its weights derived at the first such forward and dropped by a training
 * forward, a checkpoint load or a change of compute dtype; training and the other activations run block by block.
 */
public final class BertLayer extends HfBlock implements DerivedWeights {

    private final BertAttention attention;
    private final BertIntermediate intermediate;
    private final BertOutput output;
    /** The kernel's weights; null until derived. */
    private volatile EncoderLayerKernel.Weights kernelWeights;
    /** Whether inference runs in BF16 ({@link #computeIn}). */
    private volatile boolean bf16;

    public BertLayer(BertConfig c) {
        attention = addChildBlock("attention", new BertAttention(c));
        intermediate = addChildBlock("intermediate", new BertIntermediate(c));
        output = addChildBlock("output", new BertOutput(c));
    }

    public BertAttention attention() {
        return attention;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.get(0); // (B, T, H)
        if (training) {
            weightsChanged();
        } else if (runsKernel(ps, x, false)) {
            NDArray mask = inputs.size() > 1 ? inputs.get(1) : null; // (B, 1, 1, T), null: no padding
            return new NDList(EncoderLayerKernel.forward(x, mask, kernelWeights(ps, x.getDevice()))); // (B, T, H)
        }
        NDArray a = attention.forward(ps, inputs, training).head(); // (B, T, H)
        NDArray i = call(intermediate, ps, training, a); // (B, T, I)
        return output.forward(ps, new NDList(i, a), training);
    }

    /** Whether a forward with these arguments runs as one {@link EncoderLayerKernel} call. */
    boolean runsKernel(ParameterStore ps, NDArray x, boolean training) {
        return !training
                && intermediate.gelu()
                && !(ps instanceof AdapterStore)
                && (bf16
                        ? EncoderLayerKernel.availableBf16(x.getDevice())
                        : EncoderLayerKernel.available(x.getDevice()))
                && !NoGrad.isGradMode();
    }

    private EncoderLayerKernel.Weights kernelWeights(ParameterStore ps, Device device) {
        EncoderLayerKernel.Weights w = kernelWeights;
        if (w != null) return w;
        synchronized (this) {
            if (kernelWeights == null) {
                BertSelfAttention self = attention.self();
                Linear[] qkv = self.projections();
                NDArray wq = value(ps, qkv[0], "weight", device);
                float scale = ScaledDotProductAttention.scale(wq.getShape().get(0) / self.numHeads());
                boolean b = bf16;
                NDArray[] fused = FusedProjection.build(ps, device, qkv, scale, true, b); // (3H, H), (3H)
                NDArray copy = fused[0]; // every GEMM runs in oneDNN on weights reordered once (EncoderLayerKernel)
                fused[0] = b ? EncoderLayerKernel.packBf16(copy) : LinearGelu.pack(copy);
                copy.close();
                Linear o1 = attention.output().dense();
                Linear up = intermediate.dense();
                Linear o2 = output.dense();
                NDArray wo = packed(ps, o1, device, b);
                NDArray bo = b ? bf16(ps, o1, "bias", device) : value(ps, o1, "bias", device);
                NDArray wi = packed(ps, up, device, b);
                NDArray bi = b ? bf16(ps, up, "bias", device) : value(ps, up, "bias", device);
                NDArray wd = packed(ps, o2, device, b);
                NDArray bd = b ? bf16(ps, o2, "bias", device) : value(ps, o2, "bias", device);
                LayerNorm ln1 = attention.output().layerNorm();
                LayerNorm ln2 = output.layerNorm();
                NDArray[] weights = {
                    fused[0],
                    fused[1],
                    wo,
                    bo,
                    value(ps, ln1, "weight", device),
                    value(ps, ln1, "bias", device),
                    wi,
                    bi,
                    wd,
                    bd,
                    value(ps, ln2, "weight", device),
                    value(ps, ln2, "bias", device)
                };
                NDArray[] owned = b
                        ? new NDArray[] {fused[0], fused[1], wo, bo, wi, bi, wd, bd}
                        : new NDArray[] {fused[0], fused[1], wo, wi, wd};
                kernelWeights = EncoderLayerKernel.prepare(self.numHeads(), ln2.eps(), b, weights, owned);
            }
            return kernelWeights;
        }
    }

    /** The weight of {@code linear} reordered once for oneDNN, in bfloat16 where {@code bf16}. */
    private static NDArray packed(ParameterStore ps, Linear linear, Device device, boolean bf16) {
        NDArray w = value(ps, linear, "weight", device);
        return bf16 ? EncoderLayerKernel.packBf16(w) : LinearGelu.pack(w);
    }

    private static NDArray bf16(ParameterStore ps, ai.djl.nn.Block block, String name, Device device) {
        return Bf16Linear.toBf16(value(ps, block, name, device));
    }

    private static NDArray value(ParameterStore ps, ai.djl.nn.Block block, String name, Device device) {
        return ps.getValue(block.getParameters().get(name), device, false);
    }

    @Override
    public synchronized void computeIn(ComputeDtype dtype) {
        weightsChanged();
        bf16 = dtype == ComputeDtype.BF16;
    }

    @Override
    public synchronized void weightsChanged() {
        EncoderLayerKernel.Weights w = kernelWeights;
        kernelWeights = null;
        if (w != null) w.close();
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        attention.initialize(manager, dataType, inputShapes);
        intermediate.initialize(manager, dataType, inputShapes[0]);
        output.initialize(manager, dataType, intermediate.getOutputShapes(inputShapes)[0], inputShapes[0]);
    }
}
