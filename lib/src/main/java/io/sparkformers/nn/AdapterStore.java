package io.sparkformers.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;

/**
 * A {@link ParameterStore} that adds an adapter's output to some layers' outputs, computed from the layer's input:
 * PEFT's LoRA layer {@code base_layer(x) + lora_B(lora_A(lora_dropout(x))) * scaling}, where dropout on the adapter's
 * input cannot pass through a merged weight. The blocks stay as they are: every call of a child layer on one input
 * ({@link HfBlock#call}, {@link InferenceLinear#forward}) passes its output through {@link #afterLayer}, which returns it
 * unchanged for a store that is not an adapter store or a layer it does not adapt.
 */
public interface AdapterStore {

    /**
     * {@code y} plus the adapter's path on {@code x} when {@code layer} is adapted, else {@code y}.
     *
     * @param layer    the child block just called (a Linear, GPT-2's Conv1D, or any other block)
     * @param x        its input (..., in)
     * @param y        its output (..., out)
     * @param training whether the call runs in training mode (the adapter's dropout acts only then)
     */
    NDArray addAdapter(Block layer, NDArray x, NDArray y, boolean training);

    /** {@link #addAdapter} when {@code ps} is an adapter store, else {@code y}. */
    static NDArray afterLayer(ParameterStore ps, Block layer, NDArray x, NDArray y, boolean training) {
        return ps instanceof AdapterStore s ? s.addAdapter(layer, x, y, training) : y;
    }
}
