package io.sparkformers.nn.llama;

import ai.djl.ndarray.NDArray;
import io.sparkformers.nn.CausalLanguageModel;
import io.sparkformers.nn.KvBuffer;

/**
 * HF's {@code past_key_values} for the Llama family: per layer the rotated keys and the values of every position
 * seen, (B, nkv, P, hd) each, in a {@link KvBuffer} (written in place, capacity doubling). A cache is consumed by the
 * call that grows or reorders it; the result takes over its buffer.
 */
final class LlamaKvCache implements CausalLanguageModel.KvCache {

    private final KvBuffer buffer;
    private boolean consumed;

    LlamaKvCache(KvBuffer buffer) {
        this.buffer = buffer;
    }

    @Override
    public int length() {
        return buffer.length();
    }

    /** The buffer, handed on to the next cache; this cache is consumed. */
    KvBuffer take() {
        if (consumed) throw new IllegalStateException("this KvCache was consumed by an earlier forward or select");
        consumed = true;
        return buffer;
    }

    @Override
    public CausalLanguageModel.KvCache select(NDArray rows) {
        KvBuffer b = take();
        b.select(rows);
        return new LlamaKvCache(b);
    }

    @Override
    public void close() {
        if (!consumed) {
            consumed = true;
            buffer.close();
        }
    }
}
