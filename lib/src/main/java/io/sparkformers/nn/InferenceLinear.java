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
 * Blocks that use it implement {@link DerivedWeights} and pass the call on.
 */
public final class InferenceLinear implements DerivedWeights {

    private final Linear linear;
    /** W as an (out, in) view of an (in, out) row-major copy; null until derived. */
    private volatile NDArray weightT;

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
            return linear.forward(ps, new ai.djl.ndarray.NDList(x), training).head();
        }
        NDArray b = ps.getValue(linear.getParameters().get("bias"), x.getDevice(), false);
        return apply(x, weight(ps, x), b);
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

    @Override
    public synchronized void weightsChanged() {
        NDArray w = weightT;
        weightT = null;
        if (w != null) w.close();
    }
}
