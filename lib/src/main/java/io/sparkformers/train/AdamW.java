package io.sparkformers.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * AdamW as torch.optim.AdamW computes it ({@code amsgrad=False}, {@code maximize=False}, the single-tensor path
 * torch takes on CPU): for parameter p with gradient g at step t (1-based),
 * <pre>
 *   p  = p · (1 − lr·wd)                               decoupled weight decay, first
 *   m  = m + (1 − β1)(g − m)                           torch's exp_avg.lerp_(g, 1 − β1)
 *   v  = β2·v + ((1 − β2)·g)·g                         torch's exp_avg_sq.mul_(β2).addcmul_(g, g, 1 − β2)
 *   p  = p − lr/(1 − β1^t) · m / (sqrt(v)/sqrt(1 − β2^t) + ε)
 * </pre>
 * Scalars are computed in double and applied to float32 tensors, as torch does with Python floats; the operation
 * order follows torch's so results agree to float32 rounding. State: {@code exp_avg}, {@code exp_avg_sq}, {@code step}.
 *
 * <p>On CPU each parameter is updated in one fused pass over its memory ({@link AdamWKernel}, the same float32
 * operations element by element); elsewhere, op by op with tensor operations.
 */
public final class AdamW extends Optimizer {

    private final double beta1;
    private final double beta2;
    private final double eps;
    private boolean fused = true;

    /**
     * @param groups parameter groups with their lr and weight decay (see {@link ParamGroup#hfDefaults})
     * @param beta1  first-moment decay (HF {@code adam_beta1}, default 0.9)
     * @param beta2  second-moment decay (HF {@code adam_beta2}, default 0.999)
     * @param eps    denominator term (HF {@code adam_epsilon}, default 1e-8)
     */
    public AdamW(List<ParamGroup> groups, double beta1, double beta2, double eps) {
        super(groups);
        if (!(beta1 >= 0 && beta1 < 1)) throw new IllegalArgumentException("beta1 must be in [0, 1) but was " + beta1);
        if (!(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("beta2 must be in [0, 1) but was " + beta2);
        if (!(eps >= 0)) throw new IllegalArgumentException("eps must be >= 0 but was " + eps);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
    }

    /** HF TrainingArguments defaults: betas (0.9, 0.999), eps 1e-8. */
    public AdamW(List<ParamGroup> groups) {
        this(groups, 0.9, 0.999, 1e-8);
    }

    /**
     * Chooses the fused one-pass update ({@link AdamWKernel}, the default, taken for contiguous float32 CPU tensors)
     * or the op-by-op tensor form; both give the same bits.
     */
    public AdamW setFused(boolean fused) {
        this.fused = fused;
        return this;
    }

    @Override
    protected List<String> slotNames() {
        return List.of("exp_avg", "exp_avg_sq");
    }

    @Override
    protected boolean countsSteps() {
        return true;
    }

    /** The fused pass updates any part of a float32 CPU parameter. */
    @Override
    public boolean updatesShares(List<ParamRef> params) {
        if (!fused) return false;
        for (ParamRef p : params) {
            NDArray v = p.value();
            if (v.getDataType() != DataType.FLOAT32 || !Device.cpu().equals(v.getDevice()) || v.isSparse()) {
                return false;
            }
        }
        return true;
    }

    @Override
    protected void updateShares(
            String name, NDArray p, List<DataParallel.Share> shares, double lr, double weightDecay, float gradScale) {
        NDArray m = slot(name, "exp_avg", p);
        NDArray v = slot(name, "exp_avg_sq", p);
        long t = nextStep(name);
        for (DataParallel.Share s : shares) {
            FloatBuffer g = s.gradientSum().toByteBuffer(true).asFloatBuffer();
            if (!AdamWKernel.stepRange(
                    p, g, m, v, s.from(), s.to(), gradScale, lr, weightDecay, beta1, beta2, eps, t)) {
                throw new IllegalStateException(
                        "parameter " + name + " is not contiguous: a sharded AdamW step cannot update it in place");
            }
        }
    }

    @Override
    protected void update(String name, NDArray p, NDArray g, double lr, double weightDecay) {
        NDArray m = slot(name, "exp_avg", p);
        NDArray v = slot(name, "exp_avg_sq", p);
        long t = nextStep(name);
        if (fused
                && AdamWKernel.applicable(p, g, m, v)
                && AdamWKernel.step(p, g, m, v, lr, weightDecay, beta1, beta2, eps, t)) {
            return;
        }
        if (weightDecay != 0) p.muli(1 - lr * weightDecay);
        try (NDArray diff = g.sub(m)) {
            m.addi(diff.muli(1 - beta1));
        }
        try (NDArray g2 = g.mul(1 - beta2)) {
            v.muli(beta2).addi(g2.muli(g));
        }
        double biasCorrection1 = 1 - StrictMath.pow(beta1, t);
        double biasCorrection2 = 1 - StrictMath.pow(beta2, t);
        double stepSize = lr / biasCorrection1;
        double biasCorrection2Sqrt = Math.sqrt(biasCorrection2);
        try (NDArray denom = v.sqrt();
                NDArray ratio = m.div(denom.divi(biasCorrection2Sqrt).addi(eps))) {
            p.subi(ratio.muli(stepSize));
        }
    }
}
