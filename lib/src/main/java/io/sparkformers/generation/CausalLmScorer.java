package io.sparkformers.generation;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.sparkformers.nn.CausalLanguageModel;

/**
 * A decoder-only model as a {@link TokenScorer}: the left-padded prompt once (prefill), then one token per row with
 * the KV cache, the attention mask grown by one column and positions as HF's generate computes them
 * ({@code cumsum(mask) - 1}, padding at 1). Each step's arrays live in a sub-manager closed before it returns; the
 * cache lives across steps in its own memory. Per token nothing grows by copying: the mask is one flat (B, capacity)
 * array written one column a step (capacity doubling), and the logits rows handed out are the same arrays each step.
 */
public final class CausalLmScorer implements TokenScorer {

    private final CausalLanguageModel model;
    private final Device device;
    private final NDManager root;
    private long[][] prompt;
    /** Row-major (B, capacity) attention mask; the first {@code length} columns are live. */
    private long[] mask;

    private int capacity;
    private long[] nextPosition;
    private int length;
    private CausalLanguageModel.KvCache cache;
    private float[][] rows;

    /**
     * @param inputIds      (B, T) the left-padded prompts
     * @param attentionMask (B, T) 1 for tokens, 0 for padding
     */
    public CausalLmScorer(CausalLanguageModel model, long[][] inputIds, long[][] attentionMask, Device device) {
        this.model = model;
        this.device = device;
        this.root = NDManager.newBaseManager(device);
        this.prompt = inputIds;
        this.length = inputIds[0].length;
        this.capacity = Math.max(64, 2 * length);
        this.mask = new long[inputIds.length * capacity];
        this.nextPosition = new long[inputIds.length];
        for (int i = 0; i < inputIds.length; i++) {
            System.arraycopy(attentionMask[i], 0, mask, i * capacity, length);
            long sum = 0;
            for (long m : attentionMask[i]) sum += m;
            nextPosition[i] = sum;
        }
    }

    @Override
    public float[][] next(long[] tokens) {
        int b = nextPosition.length;
        try (NDManager step = root.newSubManager()) {
            NDArray ids;
            NDArray positions;
            if (tokens == null) {
                ids = step.create(prompt);
                positions = step.create(positions(prompt[0].length));
                prompt = null;
            } else {
                grow(1);
                ids = step.create(tokens, new Shape(b, 1));
                positions = step.create(nextPosition.clone(), new Shape(b, 1));
                for (int i = 0; i < b; i++) nextPosition[i]++;
            }
            NDArray m = step.create(mask, new Shape(b, capacity)).get(NDIndex.sliceAxis(1, 0, length)); // (B, P + T)
            CausalLanguageModel.Step out = model.forward(ids, m, positions, cache, 1); // the last position's logits
            cache = out.cache();
            int v = (int) out.logits().getShape().get(2);
            long t = out.logits().getShape().get(1);
            NDArray last = out.logits().get(NDIndex.sliceAxis(1, t - 1, t)); // (B, T, V) -> (B, 1, V)
            // direct: a view of the tensor's memory (read before the step's manager closes), not a (B, V) byte[] copy
            java.nio.FloatBuffer flat =
                    last.toType(DataType.FLOAT32, false).toByteBuffer(true).asFloatBuffer();
            if (rows == null || rows.length != b || rows[0].length != v) rows = new float[b][v];
            for (int i = 0; i < b; i++) flat.get(rows[i]);
            return rows;
        }
    }

    /** Positions of the prompt: cumsum(mask) - 1, padding at 1. */
    private long[][] positions(int t) {
        int b = nextPosition.length;
        long[][] pos = new long[b][t];
        for (int i = 0; i < b; i++) {
            long c = 0;
            for (int j = 0; j < t; j++) {
                long mij = mask[i * capacity + j];
                c += mij;
                pos[i][j] = mij == 0 ? 1 : c - 1;
            }
        }
        return pos;
    }

    /** One more column of ones; the capacity doubles (one copy) when full. */
    private void grow(int columns) {
        int b = nextPosition.length;
        if (length + columns > capacity) {
            int wider = 2 * (length + columns);
            long[] m = new long[b * wider];
            for (int i = 0; i < b; i++) System.arraycopy(mask, i * capacity, m, i * wider, length);
            mask = m;
            capacity = wider;
        }
        for (int i = 0; i < b; i++)
            java.util.Arrays.fill(mask, i * capacity + length, i * capacity + length + columns, 1L);
        length += columns;
    }

    @Override
    public void reorder(int[] rows) {
        long[] m = new long[rows.length * capacity];
        long[] p = new long[rows.length];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(mask, rows[i] * capacity, m, i * capacity, length);
            p[i] = nextPosition[rows[i]];
        }
        mask = m;
        nextPosition = p;
        if (cache != null) {
            long[] idx = new long[rows.length];
            for (int i = 0; i < rows.length; i++) idx[i] = rows[i];
            try (NDManager step = root.newSubManager()) {
                cache = cache.select(step.create(idx));
            }
        }
    }

    @Override
    public void close() {
        if (cache != null) cache.close();
        root.close();
    }

    public Device device() {
        return device;
    }
}
