package io.sparkformers.generation;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.sparkformers.nn.CausalLanguageModel;

/**
 * A decoder-only model as a {@link TokenScorer}: the left-padded prompt once (prefill), then one token per row with
 * the KV cache, the attention mask grown by one column and positions as HF's generate computes them
 * ({@code cumsum(mask) - 1}, padding at 1). Each step's arrays live in a sub-manager closed before it returns; the
 * cache lives across steps in its own memory.
 */
public final class CausalLmScorer implements TokenScorer {

    private final CausalLanguageModel model;
    private final Device device;
    private final NDManager root;
    private long[][] prompt;
    private long[][] mask;
    private long[] nextPosition;
    private int length;
    private CausalLanguageModel.KvCache cache;

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
        this.mask = new long[inputIds.length][];
        this.nextPosition = new long[inputIds.length];
        for (int i = 0; i < inputIds.length; i++) {
            mask[i] = attentionMask[i].clone();
            long sum = 0;
            for (long m : mask[i]) sum += m;
            nextPosition[i] = sum;
        }
    }

    @Override
    public float[][] next(long[] tokens) {
        int b = mask.length;
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
            NDArray m = step.create(mask);
            CausalLanguageModel.Step out = model.forward(ids, m, positions, cache);
            cache = out.cache();
            long v = out.logits().getShape().get(2);
            NDArray last = out.logits().get(":, -1, :"); // (B, T, V) -> (B, V)
            float[] flat = last.toType(DataType.FLOAT32, false).toFloatArray();
            float[][] rows = new float[b][];
            for (int i = 0; i < b; i++) {
                rows[i] = new float[(int) v];
                System.arraycopy(flat, (int) (i * v), rows[i], 0, (int) v);
            }
            return rows;
        }
    }

    /** Positions of the prompt: cumsum(mask) - 1, padding at 1. */
    private long[][] positions(int t) {
        long[][] pos = new long[mask.length][t];
        for (int i = 0; i < mask.length; i++) {
            long c = 0;
            for (int j = 0; j < t; j++) {
                c += mask[i][j];
                pos[i][j] = mask[i][j] == 0 ? 1 : c - 1;
            }
        }
        return pos;
    }

    private void grow(int columns) {
        length += columns;
        for (int i = 0; i < mask.length; i++) {
            long[] m = java.util.Arrays.copyOf(mask[i], length);
            for (int j = length - columns; j < length; j++) m[j] = 1;
            mask[i] = m;
        }
    }

    @Override
    public void reorder(int[] rows) {
        long[][] m = new long[rows.length][];
        long[] p = new long[rows.length];
        for (int i = 0; i < rows.length; i++) {
            m[i] = mask[rows[i]].clone();
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
