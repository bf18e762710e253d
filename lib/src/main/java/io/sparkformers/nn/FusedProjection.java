package io.sparkformers.nn;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;

/**
 * Several projections of the same input (attention's q, k, v) as one weight for inference without autograd: one GEMM
 * per layer and token instead of one per projection. Built once by the block that owns the projections (it caches the
 * result and drops it in {@code weightsChanged}).
 */
public final class FusedProjection {
    private FusedProjection() {}

    /**
     * The fused weight and bias of {@code parts}, attached to the parameters' manager.
     *
     * @param firstScale a factor folded into the first part's weight and bias (attention's query scale), or 1
     * @param withBias   the parts have biases (the returned bias is null otherwise)
     * @param bf16       the weight and bias as {@link Bf16Linear#toBf16} returns them; else the weight as
     *                   {@link InferenceLinear#transposedCopy} (stored (in, Σ out)) and the bias in float32
     * @return {weight, bias}
     */
    public static NDArray[] build(
            ParameterStore ps, Device device, Linear[] parts, float firstScale, boolean withBias, boolean bf16) {
        NDManager owner = ps.getValue(parts[0].getParameters().get("weight"), device, false)
                .getManager();
        try (NDManager scratch = owner.newSubManager();
                NoGrad g = NoGrad.enter()) {
            NDList w = new NDList();
            NDList b = new NDList();
            for (int i = 0; i < parts.length; i++) {
                NDArray lw = ps.getValue(parts[i].getParameters().get("weight"), device, false);
                NDArray lb = withBias ? ps.getValue(parts[i].getParameters().get("bias"), device, false) : null;
                if (i == 0 && firstScale != 1f) {
                    lw = lw.mul(firstScale);
                    lw.attach(scratch); // temporaries, freed with scratch
                    if (lb != null) {
                        lb = lb.mul(firstScale);
                        lb.attach(scratch);
                    }
                }
                w.add(lw);
                if (lb != null) b.add(lb);
            }
            NDArray cat = NDArrays.concat(w, 0); // n × (out, in) -> (Σ out, in)
            cat.attach(scratch);
            NDArray fb = withBias ? NDArrays.concat(b, 0) : null; // n × (out) -> (Σ out)
            if (bf16 && fb != null) {
                fb.attach(scratch);
                fb = Bf16Linear.toBf16(fb);
            }
            NDArray fw = bf16 ? Bf16Linear.toBf16(cat) : InferenceLinear.transposedCopy(cat);
            fw.attach(owner);
            if (fb != null) fb.attach(owner);
            return new NDArray[] {fw, fb};
        }
    }
}
