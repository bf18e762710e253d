package io.sparkformers.nn.gpt2;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import io.sparkformers.nn.CausalLanguageModel;

/**
 * GPT-2's {@code past_key_values} (HF {@code DynamicCache}): per layer, keys and values (B, nh, P, hs). Each forward
 * appends the new positions (a concatenation, as HF's cache does) into a fresh sub-manager of the cache's own
 * manager and frees the previous one, so the cache holds exactly one copy of its positions between steps.
 */
final class GPT2Cache implements CausalLanguageModel.KvCache {

    private final NDManager root;
    private final NDArray[] keys;
    private final NDArray[] values;
    private NDManager current;
    private NDManager next;
    private int length;

    private GPT2Cache(Device device, int layers) {
        root = NDManager.newBaseManager(device);
        current = root.newSubManager();
        keys = new NDArray[layers];
        values = new NDArray[layers];
    }

    /** An empty cache (P = 0) for {@code layers} layers. */
    static GPT2Cache empty(Device device, int layers) {
        return new GPT2Cache(device, layers);
    }

    /** Starts a forward pass: the grown arrays go to a new scope. */
    void begin() {
        if (root.isOpen() && next == null) next = root.newSubManager();
        else throw new IllegalStateException("KV cache is closed or already in a forward pass");
    }

    /**
     * Appends one layer's new keys and values (B, nh, T, hs).
     *
     * @return the layer's keys and values over every position, (B, nh, P + T, hs)
     */
    NDList append(int layer, NDArray k, NDArray v) {
        NDArray allK = keys[layer] == null ? k : NDArrays.concat(new NDList(keys[layer], k), 2);
        NDArray allV = values[layer] == null ? v : NDArrays.concat(new NDList(values[layer], v), 2);
        allK.attach(next);
        allV.attach(next);
        keys[layer] = allK;
        values[layer] = allV;
        return new NDList(allK, allV);
    }

    /** Ends a forward pass that added {@code t} positions: the previous arrays are freed. */
    GPT2Cache commit(int t) {
        current.close();
        current = next;
        next = null;
        length += t;
        return this;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public CausalLanguageModel.KvCache select(NDArray rows) {
        NDManager chosen = root.newSubManager();
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] == null) continue;
            keys[i] = keys[i].get(new NDIndex("{}", rows)); // (B, nh, P, hs) -> (B', nh, P, hs)
            values[i] = values[i].get(new NDIndex("{}", rows));
            keys[i].attach(chosen);
            values[i].attach(chosen);
        }
        current.close();
        current = chosen;
        return this;
    }

    @Override
    public void close() {
        root.close();
    }
}
