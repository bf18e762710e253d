package io.sparkformers.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * Runs one layer of a stack so that, in inference, the layer's intermediate arrays are freed as soon as it ends.
 * DJL frees a native array only when its {@link NDManager} closes, and an op's result joins its input's manager; so
 * a forward whose arrays all hang off the batch's manager holds every layer's activations until the batch ends, and
 * an L-layer encoder peaks at about L times one layer's working set (PyTorch frees each by reference count as soon
 * as it is dead). Here each layer runs in a sub-manager that closes when it returns; only its output moves up.
 * In training, or with grad mode on, the layer runs as is: the autograd graph keeps what backward needs anyway, and
 * the arrays stay with the step's manager, unless {@link GradientCheckpointing} is recording on this thread: then the
 * layer runs without a graph here and again, recording, in backward.
 */
public final class LayerScope {
    private LayerScope() {}

    /**
     * {@code layer.apply(x)}; in inference (not training, grad mode off) its intermediates are freed on return, and so
     * is {@code x} when {@code freeInput} (the previous layer's output, not needed any more). The output joins the
     * manager {@code x} had.
     */
    public static NDArray apply(NDArray x, boolean freeInput, boolean training, UnaryOperator<NDArray> layer) {
        if (training && GradientCheckpointing.active()) {
            return GradientCheckpointing.forward(x, layer);
        }
        if (training || NoGrad.isGradMode()) {
            return layer.apply(x);
        }
        NDList in = new NDList(x);
        return freeInput
                ? scoped(x.getManager(), in, new NDList(), () -> layer.apply(x))
                : scoped(x.getManager(), new NDList(), in, () -> layer.apply(x));
    }

    /**
     * Runs {@code body} in a sub-manager of {@code owner} that closes when it returns: {@code moved} are freed with
     * it, {@code borrowed} go back to their managers, and so does every array the body derived from them; only the
     * result moves to {@code owner}.
     */
    static NDArray scoped(NDManager owner, NDList moved, NDList borrowed, Supplier<NDArray> body) {
        try (NDManager scope = owner.newSubManager()) {
            moved.attach(scope);
            for (NDArray b : borrowed) {
                b.tempAttach(scope); // back to its owner when the scope closes
            }
            NDArray y = body.get();
            y.attach(owner);
            return y;
        }
    }
}
