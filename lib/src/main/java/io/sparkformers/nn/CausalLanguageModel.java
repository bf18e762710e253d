package io.sparkformers.nn;

import ai.djl.ndarray.NDArray;

/**
 * A decoder-only language model run with a key/value cache, as HF's {@code *ForCausalLM} called with
 * {@code use_cache=True}: the contract text generation ({@code generate()}) runs on, whatever the architecture (GPT-2,
 * Llama, Mistral, Qwen2). Each call adds {@code T} positions to the cache, so decoding one token costs one position,
 * not the whole prefix.
 *
 * <p>Memory: the returned logits are attached to {@code inputIds}' manager (the caller's per-step scope); the cache
 * holds its arrays in a manager of its own, freed by {@link KvCache#close()}, so a step's scope can close while the
 * cache lives on.
 */
public interface CausalLanguageModel {

    /**
     * One forward pass without gradients and without dropout.
     *
     * @param inputIds      (B, T) int64: the new tokens (the whole, left-padded prompt on prefill; one per row when
     *                      decoding)
     * @param attentionMask (B, P + T) int64: 1 for real tokens, 0 for padding, over the P cached positions and the T
     *                      new ones (HF's mask, grown by one column per decoded token)
     * @param positionIds   (B, T) int64: positions as HF computes them from the mask ({@code cumsum(mask) - 1}, padding
     *                      set to 1)
     * @param cache         the P earlier positions, or null on prefill (P = 0)
     * @return logits (B, T, vocab) float32 and the cache grown to P + T positions (the given cache is consumed)
     */
    Step forward(NDArray inputIds, NDArray attentionMask, NDArray positionIds, KvCache cache);

    /**
     * {@link #forward} with the logits of the last {@code logitsToKeep} positions only (HF's {@code logits_to_keep};
     * 0 keeps all): generation reads the last position's, and on a prefill the LM head over every prompt position
     * would be the largest GEMM of the pass. Models that can skip the other positions' head override this; the
     * default computes all and slices.
     *
     * @return logits (B, min(T, logitsToKeep), vocab), or (B, T, vocab) for 0, and the cache as {@link #forward}
     */
    default Step forward(
            NDArray inputIds, NDArray attentionMask, NDArray positionIds, KvCache cache, int logitsToKeep) {
        Step all = forward(inputIds, attentionMask, positionIds, cache);
        return new Step(lastPositions(all.logits(), logitsToKeep), all.cache());
    }

    /** The last {@code keep} positions of (B, T, …), or x itself for keep 0 or ≥ T (HF's {@code logits_to_keep}). */
    static NDArray lastPositions(NDArray x, int keep) {
        long t = x.getShape().get(1);
        return keep <= 0 || keep >= t ? x : x.get(ai.djl.ndarray.index.NDIndex.sliceAxis(1, t - keep, t));
    }

    /** Size of the output distribution (HF {@code vocab_size}). */
    int vocabSize();

    /** The outputs of one {@link #forward} call. */
    record Step(NDArray logits, KvCache cache) {}

    /** Keys and values of every layer for the positions seen so far (HF {@code past_key_values}). */
    interface KvCache extends AutoCloseable {

        /** Positions held (P). */
        int length();

        /**
         * The cache of rows {@code rows} of this one, in that order (HF {@code _reorder_cache}: beam search keeps
         * the beams it extends; a row may be taken several times). This cache is consumed.
         *
         * @param rows (B') int64 row indices into the batch
         */
        KvCache select(NDArray rows);

        @Override
        void close();
    }
}
