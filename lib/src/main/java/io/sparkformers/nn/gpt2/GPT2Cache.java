package io.sparkformers.nn.gpt2;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import io.sparkformers.nn.CausalLanguageModel;
import io.sparkformers.nn.KvBuffer;

/**
 * GPT-2's {@code past_key_values}: per layer, keys and values (B, nh, P, hs) in a {@link KvBuffer} (written in
 * place, capacity doubling) in the cache's own manager; the attention reads views of the held positions.
 */
final class GPT2Cache implements CausalLanguageModel.KvCache {

    private final NDManager root;
    private final KvBuffer buffer;
    private boolean inForward;

    private GPT2Cache(Device device, int layers) {
        root = NDManager.newBaseManager(device);
        buffer = new KvBuffer(root, layers);
    }

    /** An empty cache (P = 0) for {@code layers} layers. */
    static GPT2Cache empty(Device device, int layers) {
        return new GPT2Cache(device, layers);
    }

    /** Starts a forward pass. */
    void begin() {
        if (!root.isOpen() || inForward)
            throw new IllegalStateException("KV cache is closed or already in a forward pass");
        inForward = true;
    }

    /**
     * Writes one layer's new keys and values (B, nh, T, hs).
     *
     * @return the layer's keys and values over every position, (B, nh, P + T, hs), views in {@code k}'s manager
     */
    NDList append(int layer, NDArray k, NDArray v) {
        return buffer.append(layer, k, v);
    }

    /** Ends a forward pass that added {@code t} positions. */
    GPT2Cache commit(int t) {
        buffer.advance(t);
        inForward = false;
        return this;
    }

    @Override
    public int length() {
        return buffer.length();
    }

    @Override
    public CausalLanguageModel.KvCache select(NDArray rows) {
        buffer.select(rows);
        return this;
    }

    @Override
    public void close() {
        root.close();
    }
}
