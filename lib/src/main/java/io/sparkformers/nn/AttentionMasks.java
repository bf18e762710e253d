package io.sparkformers.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/** Attention masks as HF's eager attention consumes them. */
public final class AttentionMasks {

    private AttentionMasks() {}

    /**
     * Whether any position is padding (a 0 in the (B, T) mask). Without padding the extended mask is all zeros and
     * adding it changes nothing, so callers skip it, as HF's SDPA path does ({@code _prepare_4d_attention_mask_for_sdpa}
     * returns None for an all-ones mask): B·nh·T² fewer additions per layer.
     */
    public static boolean hasPadding(NDArray attentionMask) {
        try (NDArray all = attentionMask.all()) {
            return !all.getBoolean();
        }
    }

    /**
     * HF {@code get_extended_attention_mask}: {@code (1 - mask) * finfo(dtype).min}, added to the scores.
     * (B, T) of 1 (attend) / 0 (padding) -> (B, 1, 1, T) of 0 / -3.4028235e38.
     */
    public static NDArray extended(NDArray attentionMask, DataType dtype) {
        if (dtype != DataType.FLOAT32)
            throw new IllegalStateException("only float32 models are supported, got " + dtype);
        return attentionMask
                .toType(dtype, false)
                .expandDims(1)
                .expandDims(1) // (B, T) -> (B, 1, 1, T)
                .neg()
                .add(1f)
                .mul(-Float.MAX_VALUE);
    }
}
