package io.sparkformers.train;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * SGD as torch.optim.SGD computes it with {@code dampening=0}, {@code nesterov=False}, {@code maximize=False}:
 * <pre>
 *   d = g + wd·p                                  coupled (L2) weight decay
 *   b = d on the first step, else μ·b + d         momentum buffer, only when μ ≠ 0
 *   p = p − lr·b                                  (or p − lr·d without momentum)
 * </pre>
 * State: {@code momentum_buffer} (absent when momentum is 0).
 */
public final class Sgd extends Optimizer {

    private final double momentum;

    /** @param momentum momentum factor μ (torch default 0) */
    public Sgd(List<ParamGroup> groups, double momentum) {
        super(groups);
        if (!(momentum >= 0)) throw new IllegalArgumentException("momentum must be >= 0 but was " + momentum);
        this.momentum = momentum;
    }

    @Override
    protected List<String> slotNames() {
        return List.of("momentum_buffer");
    }

    @Override
    protected boolean countsSteps() {
        return false;
    }

    @Override
    protected void update(String name, NDArray p, NDArray g, double lr, double weightDecay) {
        NDArray decayed = null;
        try {
            NDArray d = g;
            if (weightDecay != 0) {
                try (NDArray scaled = p.mul(weightDecay)) {
                    decayed = g.add(scaled); // torch: grad.add(param, alpha=wd)
                }
                d = decayed;
            }
            if (momentum != 0) {
                NDArray buf = existingSlot(name, "momentum_buffer", p);
                if (buf == null) {
                    buf = d.duplicate(); // torch: clone(d_p).detach()
                    putSlot(name, "momentum_buffer", buf);
                } else {
                    buf.muli(momentum).addi(d);
                }
                d = buf;
            }
            try (NDArray delta = d.mul(lr)) {
                p.subi(delta);
            }
        } finally {
            if (decayed != null) decayed.close();
        }
    }
}
