package io.sparkformers.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Global L2-norm gradient clipping as torch.nn.utils.clip_grad_norm_ (HF Trainer's {@code max_grad_norm}): the
 * norm is taken over all gradients together, and every gradient is scaled in place by
 * {@code min(1, maxNorm / (totalNorm + 1e-6))}. Per-tensor norms are float32 as in torch; they are combined in
 * double, so the coefficient agrees with torch's to float32 rounding. DJL's {@code optClipGrad} is an element-wise clamp, not this.
 */
public final class GradientClipping {

    private GradientClipping() {}

    /**
     * Scales {@code grads} in place so their global L2 norm is at most {@code maxNorm}.
     *
     * @return the total norm before clipping (non-finite when a gradient is; torch then scales by NaN or 0 too)
     */
    public static double clipGradNorm(List<NDArray> grads, double maxNorm) {
        if (!(maxNorm > 0)) throw new IllegalArgumentException("maxNorm must be > 0 but was " + maxNorm);
        try (Autograd.AutoCloseableNoThrow noGrad = Autograd.noGrad()) {
            double sumSquares = 0;
            for (NDArray g : grads) {
                try (NDArray n = g.norm()) {
                    double v = n.getDataType() == DataType.FLOAT64 ? n.getDouble() : n.getFloat();
                    sumSquares += v * v;
                }
            }
            double totalNorm = Math.sqrt(sumSquares);
            double clipCoef = maxNorm / (totalNorm + 1e-6);
            // torch multiplies by the clamped coefficient unconditionally; x * 1 == x, so skipping it changes nothing
            if (!(clipCoef >= 1.0)) {
                for (NDArray g : grads) g.muli(clipCoef);
            }
            return totalNorm;
        }
    }

    /** {@link #clipGradNorm(List, double)} over the gradients of {@code params}; those without one are skipped. */
    public static double clipGradNormOfParams(Collection<ParamRef> params, double maxNorm) {
        List<NDArray> grads = new ArrayList<>();
        try {
            for (ParamRef p : params) {
                NDArray g = Autograd.gradientOf(p.value());
                if (g != null) grads.add(g);
            }
            return clipGradNorm(grads, maxNorm);
        } finally {
            grads.forEach(NDArray::close);
        }
    }
}
