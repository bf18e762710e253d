package io.sparkformers.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;

/**
 * The inference path of a DJL {@link Linear}: y = x W^T + b with W held as a copy laid out (in, out) row-major and
 * passed to libtorch as its transposed view, so the GEMM reads the weight in the order MKL's kernels want. With the
 * weight in PyTorch's own (out, in) layout MKL repacks all of it on every call, which at a few dozen tokens costs as
 * much as the multiplication (measured at 32 × 384 · 384 × 1536 on one thread: 380 µs → 280-310 µs). The copy
 * doubles the memory of the weights it covers. The parameters keep their HF names and layout; the copy is derived at
 * the first inference forward and dropped by a training forward or by {@link #weightsChanged()} (a checkpoint load).
 * Blocks that use it implement {@link DerivedWeights} and pass the calls on. In BF16 inference ({@link ComputeDtype})
 * the derived copies are the weight and bias in bfloat16 and the product runs in {@link Bf16Linear}.
 */
public final class InferenceLinear implements DerivedWeights {

    private final Linear linear;
    /** W as an (out, in) view of an (in, out) row-major copy; null until derived. */
    private volatile NDArray weightT;
    /** Whether inference runs the BF16 GEMM ({@link #computeIn}). */
    private volatile boolean bf16;
    /** {weight (out, in), bias} in bfloat16 for {@link Bf16Linear}; null until derived. */
    private volatile NDArray[] bf16Weights;
    /** W in oneDNN's layout for {@link LinearGelu}; null until derived. */
    private volatile NDArray geluPacked;

    public InferenceLinear(Linear linear) {
        this.linear = linear;
    }

    /**
     * {@code linear(x)}: the derived copy without autograd outside training, the parameters otherwise.
     *
     * @param x (..., in)
     * @return (..., out)
     */
    public NDArray forward(ParameterStore ps, NDArray x, boolean training) {
        if (training || NoGrad.isGradMode()) {
            if (training) weightsChanged();
            NDArray y =
                    linear.forward(ps, new ai.djl.ndarray.NDList(x), training).head();
            return AdapterStore.afterLayer(ps, linear, x, y, training);
        }
        if (bf16) {
            NDArray[] w = bf16Weights(ps, x);
            return Bf16Linear.apply(x, w[0], w[1]);
        }
        NDArray b = ps.getValue(linear.getParameters().get("bias"), x.getDevice(), false);
        return apply(x, weight(ps, x), b);
    }

    /**
     * HF "gelu" of {@code linear(x)}: in FP32 inference on a CPU one oneDNN GEMM with the GELU as its post-op
     * ({@link LinearGelu}, the weight reordered once), otherwise {@link #forward} then {@link Activations#gelu}.
     *
     * @param x (..., in)
     * @return (..., out); in FP32 or BF16 inference an inference tensor (do not update it in place)
     */
    public NDArray forwardGelu(ParameterStore ps, NDArray x, boolean training) {
        if (training || NoGrad.isGradMode() || bf16 || !LinearGelu.available(x.getDevice())) {
            return Activations.gelu(forward(ps, x, training));
        }
        NDArray b = ps.getValue(linear.getParameters().get("bias"), x.getDevice(), false);
        return LinearGelu.apply(x, geluPacked(ps, x), b);
    }

    /**
     * Whether inference runs in BF16: the output is then an inference tensor of {@link Bf16Linear}, which libtorch
     * does not let be updated in place (add to it out of place).
     */
    public boolean bf16() {
        return bf16;
    }

    /** x W^T + b for a weight given as the transposed view {@link #transposedCopy} returns. */
    public static NDArray apply(NDArray x, NDArray weightView, NDArray bias) {
        return x.getNDArrayInternal().linear(x, weightView, bias).head();
    }

    /**
     * An (out, in) weight copied to (in, out) row-major and returned as its (out, in) transposed view, attached to
     * the weight's manager (the view keeps the copy's storage alive).
     */
    public static NDArray transposedCopy(NDArray weight) {
        long out = weight.getShape().get(0);
        long in = weight.getShape().get(1);
        NDManager owner = weight.getManager();
        try (NDManager scratch = owner.newSubManager();
                NoGrad g = NoGrad.enter()) {
            NDArray t = weight.transpose(); // (out, in) -> (in, out), a view
            t.attach(scratch);
            NDArray flat = t.reshape(-1); // not viewable: a row-major copy
            flat.attach(scratch);
            NDArray copy = flat.reshape(in, out); // (in, out) over the copy
            copy.attach(scratch);
            NDArray view = copy.transpose(); // (in, out) -> (out, in), a view
            view.attach(owner);
            return view;
        }
    }

    private NDArray weight(ParameterStore ps, NDArray x) {
        NDArray w = weightT;
        if (w != null) return w;
        synchronized (this) {
            if (weightT == null) {
                weightT = transposedCopy(ps.getValue(linear.getParameters().get("weight"), x.getDevice(), false));
            }
            return weightT;
        }
    }

    private NDArray geluPacked(ParameterStore ps, NDArray x) {
        NDArray w = geluPacked;
        if (w != null) return w;
        synchronized (this) {
            if (geluPacked == null) {
                geluPacked = LinearGelu.pack(ps.getValue(linear.getParameters().get("weight"), x.getDevice(), false));
            }
            return geluPacked;
        }
    }

    private NDArray[] bf16Weights(ParameterStore ps, NDArray x) {
        NDArray[] w = bf16Weights;
        if (w != null) return w;
        synchronized (this) {
            if (bf16Weights == null) {
                NDArray weight = ps.getValue(linear.getParameters().get("weight"), x.getDevice(), false);
                NDArray bias = ps.getValue(linear.getParameters().get("bias"), x.getDevice(), false);
                bf16Weights = new NDArray[] {Bf16Linear.toBf16(weight), Bf16Linear.toBf16(bias)};
            }
            return bf16Weights;
        }
    }

    @Override
    public synchronized void computeIn(ComputeDtype dtype) {
        weightsChanged();
        bf16 = dtype == ComputeDtype.BF16;
    }

    @Override
    public synchronized void weightsChanged() {
        NDArray w = weightT;
        NDArray[] b = bf16Weights;
        NDArray p = geluPacked;
        weightT = null;
        bf16Weights = null;
        geluPacked = null;
        if (w != null) w.close();
        if (p != null) p.close();
        if (b != null) {
            b[0].close();
            b[1].close();
        }
    }
}
