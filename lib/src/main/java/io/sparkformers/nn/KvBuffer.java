package io.sparkformers.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * Storage of a decoder's key/value cache: per layer one keys and one values buffer (B, heads, capacity, hd) in a
 * manager of its own, the new positions of each forward written in place after the held ones. The attention reads a
 * view of the first {@code P + T} positions, so a decoded token costs one position's write, not a copy of the prefix
 * (HF's {@code DynamicCache} concatenates, O(n²) copies over a generation; its {@code StaticCache} preallocates the
 * maximum length). Capacity doubles when a forward needs more (amortised O(n) copies), so callers need not know the
 * final length.
 */
public final class KvBuffer implements AutoCloseable {

    /** Positions of the first allocation at least (the prompt's length × 2 when longer). */
    static final int MIN_CAPACITY = 64;

    private final NDManager manager;
    private final NDArray[] keys;
    private final NDArray[] values;
    private int length;

    /**
     * @param parent the manager whose sub-manager holds the buffers (on the model's device)
     * @param layers decoder layers
     */
    public KvBuffer(NDManager parent, int layers) {
        manager = parent.newSubManager();
        keys = new NDArray[layers];
        values = new NDArray[layers];
    }

    /** Positions held (P). */
    public int length() {
        return length;
    }

    /**
     * Writes one layer's {@code T} new keys and values (B, heads, T, hd) at positions {@code P … P + T - 1}.
     *
     * @return views of the layer's keys and values over every position (B, heads, P + T, hd), attached to
     *     {@code k}'s manager (they share the buffers' memory: valid until the next forward or select)
     */
    public NDList append(int layer, NDArray k, NDArray v) {
        int t = (int) k.getShape().get(2);
        int end = length + t;
        keys[layer] = write(keys[layer], k, end);
        values[layer] = write(values[layer], v, end);
        NDIndex upToEnd = NDIndex.sliceAxis(2, 0, end);
        NDArray kView = keys[layer].get(upToEnd);
        NDArray vView = values[layer].get(upToEnd);
        kView.attach(k.getManager());
        vView.attach(k.getManager());
        return new NDList(kView, vView);
    }

    /** Writes {@code x} at positions [length, end) of {@code buffer}, first growing it (doubling) when too short. */
    private NDArray write(NDArray buffer, NDArray x, int end) {
        Shape s = x.getShape();
        if (buffer == null || buffer.getShape().get(2) < end) {
            long capacity = Math.max(MIN_CAPACITY, 2L * end);
            NDArray grown = manager.zeros(new Shape(s.get(0), s.get(1), capacity, s.get(3)), x.getDataType());
            if (buffer != null) {
                NDIndex held = NDIndex.sliceAxis(2, 0, length);
                try (NDArray prefix = buffer.get(held)) {
                    grown.set(held, prefix);
                }
                buffer.close();
            }
            buffer = grown;
        }
        buffer.set(NDIndex.sliceAxis(2, length, end), x); // built, not parsed: no regex per layer and step
        return buffer;
    }

    /** Ends a forward that wrote {@code t} positions in every layer. */
    public void advance(int t) {
        length += t;
    }

    /** Keeps rows {@code rows} (B') int64 of every layer, in that order (beam search's reorder). */
    public void select(NDArray rows) {
        NDIndex pick = new NDIndex("{}", rows);
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] == null) continue;
            keys[i] = replace(keys[i], keys[i].get(pick));
            values[i] = replace(values[i], values[i].get(pick));
        }
    }

    private NDArray replace(NDArray old, NDArray picked) {
        picked.attach(manager);
        old.close();
        return picked;
    }

    @Override
    public void close() {
        manager.close();
    }
}
