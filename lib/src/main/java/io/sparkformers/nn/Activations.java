package io.sparkformers.nn;

import ai.djl.ndarray.NDArray;
import java.util.List;
import java.util.function.UnaryOperator;

/** HF {@code ACT2FN} for the activations we ship; anything else is rejected when the config is built. */
public final class Activations {

    /** Names accepted in {@code hidden_act} / {@code activation}. */
    public static final List<String> SUPPORTED = List.of("gelu", "gelu_new", "relu", "silu");

    private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);

    private Activations() {}

    /** The activation HF names {@code name}; throws listing {@link #SUPPORTED} otherwise. */
    public static UnaryOperator<NDArray> of(String name) {
        return switch (check(name)) {
            case "gelu" -> Activations::gelu;
            case "gelu_new" -> Activations::geluTanh;
            case "relu" -> x -> x.getNDArrayInternal().relu();
            case "silu" -> x -> x.mul(x.getNDArrayInternal().sigmoid());
            default -> throw new AssertionError(name);
        };
    }

    /** Validates an activation name, returning it. */
    public static String check(String name) {
        if (!SUPPORTED.contains(name)) {
            throw new IllegalArgumentException("unsupported activation '" + name + "' (supported: " + SUPPORTED + ")");
        }
        return name;
    }

    /**
     * Exact GELU, {@code 0.5 * x * (1 + erf(x / sqrt(2)))}: HF "gelu" is {@code nn.functional.gelu} without the
     * tanh approximation, and so is {@code torch::gelu} behind DJL's PyTorch {@code gelu()} (checked by a test).
     */
    public static NDArray gelu(NDArray x) {
        return x.getNDArrayInternal().gelu();
    }

    /** HF "gelu_new" (GPT-2/BERT-TF): {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}. */
    public static NDArray geluTanh(NDArray x) {
        // scalars in libtorch memory: autograd keeps them for the backward (NativeArrays.scalar)
        NDArray inner = NativeArrays.mul(x.add(NativeArrays.mul(NativeArrays.pow(x, 3), 0.044715)), SQRT_2_OVER_PI)
                .tanh();
        return NativeArrays.mul(x, 0.5).mul(inner.add(1.0));
    }
}
