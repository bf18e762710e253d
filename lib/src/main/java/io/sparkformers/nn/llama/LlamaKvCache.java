package io.sparkformers.nn.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import io.sparkformers.nn.CausalLanguageModel;

/**
 * HF's {@code DynamicCache} for the Llama family: per layer the rotated keys and the values of every position seen,
 * (B, nkv, P, hd) each, in a manager of the cache's own. A cache is consumed by the call that grows or reorders it;
 * the result takes over its manager.
 */
final class LlamaKvCache implements CausalLanguageModel.KvCache {

    private final NDManager manager;
    private final NDArray[][] kv;
    private final int length;
    private boolean consumed;

    /** @param kv per layer {keys, values}, attached to {@code manager} */
    LlamaKvCache(NDManager manager, NDArray[][] kv, int length) {
        this.manager = manager;
        this.kv = kv;
        this.length = length;
    }

    @Override
    public int length() {
        return length;
    }

    /** The manager the arrays live in, handed on to the next cache. */
    NDManager manager() {
        return manager;
    }

    /** Per layer {keys, values}, a fresh outer array over the same arrays; this cache is consumed. */
    NDArray[][] take() {
        checkLive();
        consumed = true;
        NDArray[][] out = new NDArray[kv.length][];
        for (int i = 0; i < kv.length; i++) out[i] = kv[i].clone();
        return out;
    }

    @Override
    public CausalLanguageModel.KvCache select(NDArray rows) {
        NDArray[][] old = take();
        NDArray[][] picked = new NDArray[old.length][2];
        for (int i = 0; i < old.length; i++) {
            for (int j = 0; j < 2; j++) {
                picked[i][j] = old[i][j].get(new NDIndex("{}", rows)); // (B, …) -> (B', …)
                picked[i][j].attach(manager);
                old[i][j].close();
            }
        }
        return new LlamaKvCache(manager, picked, length);
    }

    private void checkLive() {
        if (consumed) throw new IllegalStateException("this KvCache was consumed by an earlier forward or select");
    }

    @Override
    public void close() {
        if (!consumed) {
            consumed = true;
            manager.close();
        }
    }
}
