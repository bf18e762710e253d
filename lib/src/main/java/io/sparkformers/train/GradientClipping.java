package io.sparkformers.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.ToDoubleFunction;

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
            double totalNorm = globalNorm(grads);
            double clipCoef = coefficient(maxNorm, totalNorm);
            // torch multiplies by the clamped coefficient unconditionally; x * 1 == x, so skipping it changes nothing
            if (clipCoef != 1.0) scale(grads, clipCoef);
            return totalNorm;
        }
    }

    /**
     * torch's clip coefficient for a global norm: {@code maxNorm / (totalNorm + 1e-6)} where that is below 1 (or not a
     * number), else 1 — also 1 when {@code maxNorm} is not positive (clipping off).
     */
    public static double coefficient(double maxNorm, double totalNorm) {
        double coef = maxNorm / (totalNorm + 1e-6);
        return maxNorm > 0 && !(coef >= 1.0) ? coef : 1.0;
    }

    /** Multiplies {@code grads} in place by {@code coef}, as torch's {@code g.mul_(coef)} (float32: coef rounded). */
    public static void scale(List<NDArray> grads, double coef) {
        try (Autograd.AutoCloseableNoThrow noGrad = Autograd.noGrad()) {
            for (NDArray g : grads) g.muli(coef);
        }
    }

    /** The global L2 norm of {@code grads} (float32 per-tensor norms combined in double), nothing scaled. */
    public static double globalNorm(List<NDArray> grads) {
        return Math.sqrt(sumOfSquares(grads));
    }

    /** The sum of the squared float32 L2 norms of {@code arrays}, in double: a global norm's square, or part of it. */
    public static double sumOfSquares(List<NDArray> arrays) {
        try (Autograd.AutoCloseableNoThrow noGrad = Autograd.noGrad()) {
            double sumSquares = 0;
            for (NDArray g : arrays) {
                try (NDArray n = g.norm()) {
                    double v = n.getDataType() == DataType.FLOAT64 ? n.getDouble() : n.getFloat();
                    sumSquares += v * v;
                }
            }
            return sumSquares;
        }
    }

    /** {@link #clipGradNorm(List, double)} over the gradients of {@code params}; those without one are skipped. */
    public static double clipGradNormOfParams(Collection<ParamRef> params, double maxNorm) {
        return withGradientsOf(params, grads -> clipGradNorm(grads, maxNorm));
    }

    /** {@link #globalNorm(List)} over the gradients of {@code params}; those without one are skipped. */
    public static double globalNormOfParams(Collection<ParamRef> params) {
        return withGradientsOf(params, GradientClipping::globalNorm);
    }

    private static double withGradientsOf(Collection<ParamRef> params, ToDoubleFunction<List<NDArray>> body) {
        List<NDArray> grads = new ArrayList<>();
        try {
            for (ParamRef p : params) {
                NDArray g = Autograd.gradientOf(p.value());
                if (g != null) grads.add(g);
            }
            return body.applyAsDouble(grads);
        } finally {
            grads.forEach(NDArray::close);
        }
    }
}
