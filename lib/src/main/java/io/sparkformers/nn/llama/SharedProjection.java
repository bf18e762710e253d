package io.sparkformers.nn.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import io.sparkformers.nn.AdapterStore;
import io.sparkformers.nn.DerivedWeights;
import io.sparkformers.nn.InferenceLinear;
import io.sparkformers.nn.NoGrad;
import io.sparkformers.nn.SharedLayout;

/**
 * The inference path of one or more {@link Linear} layers of the same input (q/k/v, gate/up, or one layer alone):
 * their weights, and biases if any, moved once into one shared storage by {@link SharedLayout}, then ONE GEMM over
 * the fused (Σ out, in) view. The layers keep their parameters (HF names and shapes, now views of the shared
 * storage), so saving and adapters run through them unchanged; a checkpoint load re-shares
 * ({@link #weightsChanged}) and a training forward first gives the parameters their own contiguous storage back
 * ({@link #unshare}).
 */
final class SharedProjection implements DerivedWeights {

    private final Linear[] parts;
    /** {weight (Σ out, in), bias (Σ out) or null}; null until shared. */
    private volatile NDArray[] shared;

    SharedProjection(Linear... parts) {
        this.parts = parts;
    }

    /**
     * Whether the shared GEMM stands in for the layers' own calls: inference without autograd on a CPU where the
     * layout can be shared, through a plain parameter store (an adapter store adds LoRA paths per layer).
     */
    static boolean applies(ParameterStore ps, NDArray x, boolean training) {
        return !training
                && !(ps instanceof AdapterStore)
                && !NoGrad.isGradMode()
                && SharedLayout.available(x.getDevice());
    }

    /** x (..., in) -> (..., Σ out): every part's output side by side, in the order given. */
    NDArray apply(ParameterStore ps, NDArray x) {
        NDArray[] s = shared(ps, x);
        return InferenceLinear.apply(x, s[0], s[1]);
    }

    private NDArray[] shared(ParameterStore ps, NDArray x) {
        NDArray[] s = shared;
        if (s != null) return s;
        synchronized (this) {
            if (shared == null) {
                boolean bias = parts[0].getParameters().get("bias") != null;
                try (NoGrad g = NoGrad.enter()) {
                    shared = new NDArray[] {
                        SharedLayout.share(values(ps, x, "weight")),
                        bias ? SharedLayout.share(values(ps, x, "bias")) : null
                    };
                }
            }
            return shared;
        }
    }

    /** Drops the fused views (the parameters keep the shared storage); the next inference use shares again. */
    @Override
    public synchronized void weightsChanged() {
        NDArray[] s = shared;
        shared = null;
        if (s != null) {
            s[0].close();
            if (s[1] != null) s[1].close();
        }
    }

    /**
     * Before a training forward: each parameter back in a contiguous storage of its own (the fused optimizer updates
     * contiguous memory only), the fused views dropped. Nothing happens when nothing was shared.
     */
    synchronized void unshare(ParameterStore ps, NDArray x) {
        if (shared == null) return;
        weightsChanged();
        try (NoGrad g = NoGrad.enter()) {
            SharedLayout.unshare(values(ps, x, "weight"));
            if (parts[0].getParameters().get("bias") != null) SharedLayout.unshare(values(ps, x, "bias"));
        }
    }

    private NDArray[] values(ParameterStore ps, NDArray x, String name) {
        NDArray[] v = new NDArray[parts.length];
        for (int i = 0; i < parts.length; i++) {
            v[i] = ps.getValue(parts[i].getParameters().get(name), x.getDevice(), false);
        }
        return v;
    }
}
