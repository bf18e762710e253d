package io.sparkformers.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.ParameterStore;

/**
 * A task model whose forward is {@code head(encode(inputs))}, so transfer learning can run the pretrained encoder
 * frozen (no dropout, no autograd graph) and train only the head: the feature-extraction set-up of
 * {@code for p in model.base_model.parameters(): p.requires_grad = False} with the base in {@code eval()} mode.
 * {@code head(encode(x), t)} equals {@code forward(x, t)} when both run with the same {@code training}.
 */
public interface HeadSplit {

    /** Embeddings and encoder: last_hidden_state (B, T, H). */
    NDArray encode(ParameterStore ps, NDList inputs, boolean training);

    /** Everything after the encoder (pooler where the head uses one, dropout, classifier): the model's outputs. */
    NDList head(ParameterStore ps, NDArray lastHiddenState, boolean training);
}
