package io.sparkformers.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import java.util.function.BiFunction;

/**
 * HF's {@code BaseModelOutput} of an encoder called with {@code output_hidden_states} and/or
 * {@code output_attentions}: the last hidden state (B, T, H); {@code hiddenStates} the embeddings' output then every
 * layer's, L + 1 arrays of (B, T, H) (empty unless asked for); {@code attentions} every layer's attention
 * probabilities after the softmax, L arrays of (B, nh, T, T), padded keys at 0 (empty unless asked for).
 */
public record EncoderOutputs(NDArray lastHiddenState, NDList hiddenStates, NDList attentions) {

    /** An encoder that can return its per-layer outputs as HF does. */
    public interface Source {
        /**
         * Inference (no dropout, no autograd) on the inputs {@code predict} takes, keeping what is asked for. The
         * arrays belong to the inputs' manager.
         */
        EncoderOutputs predictOutputs(NDList inputs, boolean outputHiddenStates, boolean outputAttentions);
    }

    /**
     * Inference: runs a stack of {@code layers} layers on the embeddings' output {@code x}, HF's encoder loop: with
     * {@code attentions}, layer i's probabilities ({@code probabilities.apply(i, input)}, computed beside the layer:
     * one more Q/K projection per layer, paid only when asked) before {@code layer.apply(i, input)}.
     */
    public static EncoderOutputs run(
            NDArray x,
            int layers,
            boolean hiddenStates,
            boolean attentions,
            BiFunction<Integer, NDArray, NDArray> layer,
            BiFunction<Integer, NDArray, NDArray> probabilities) {
        NDList hidden = new NDList();
        NDList probs = new NDList();
        if (hiddenStates) hidden.add(x);
        for (int i = 0; i < layers; i++) {
            int index = i;
            if (attentions) {
                NDArray input = x; // Q, K and the scores are freed at once; the probabilities move up
                probs.add(LayerScope.scoped(
                        x.getManager(), new NDList(), new NDList(x), () -> probabilities.apply(index, input)));
            } // (B, nh, T, T)
            // a kept hidden state is not freed; otherwise the previous layer's output goes as in the plain forward
            x = LayerScope.apply(x, !hiddenStates && i > 0, false, h -> layer.apply(index, h)); // (B, T, H)
            if (hiddenStates) hidden.add(x);
        }
        return new EncoderOutputs(x, hidden, probs);
    }
}
