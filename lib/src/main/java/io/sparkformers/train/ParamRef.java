package io.sparkformers.train;

import ai.djl.ndarray.NDArray;
import java.util.Objects;

/**
 * A trainable tensor under its checkpoint name ({@code bert.encoder.layer.0.attention.self.query.weight}). The
 * optimizer updates {@code value} in place and reads its gradient from autograd ({@code value.getGradient()}), so it
 * needs no DJL Block; a parameter whose gradient was never computed is skipped, like torch skips
 * {@code p.grad is None}.
 *
 * @param name  stable name: keys the optimizer state and picks the parameter group
 * @param value the parameter tensor (float32)
 */
public record ParamRef(String name, NDArray value) {
    public ParamRef {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
    }
}
