package io.sparkformers.generation;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.sparkformers.nn.Seq2SeqLanguageModel;

/**
 * An encoder-decoder model as a {@link TokenScorer}: the encoder runs once over the B source rows, its states are
 * repeated for the expanded rows (HF's {@code _expand_inputs_for_generation} repeats {@code encoder_outputs}), every
 * decoder layer's cross-attention keys and values are computed once, and each step feeds one decoder token per row
 * over the self-attention cache. The search's "prompt" is the decoder prompt ({@code decoder_start_token_id} per
 * row), so max_length, min_length and length penalties count decoder tokens, as in HF.
 */
public final class Seq2SeqScorer implements TokenScorer {

    private final Seq2SeqLanguageModel model;
    private final NDManager root;
    private final Seq2SeqLanguageModel.Cache cache;
    private long[][] prompt;

    /**
     * @param decoderPrompts (B × expand, T) the decoder prompts the search starts from
     * @param encoderIds     (B, S) the source rows, right-padded
     * @param encoderMask    (B, S) 1 for tokens, 0 for padding
     */
    public Seq2SeqScorer(
            Seq2SeqLanguageModel model,
            long[][] decoderPrompts,
            long[][] encoderIds,
            long[][] encoderMask,
            Device device) {
        if (decoderPrompts.length % encoderIds.length != 0) {
            throw new IllegalArgumentException(
                    decoderPrompts.length + " decoder rows do not expand " + encoderIds.length + " source rows");
        }
        this.model = model;
        this.root = NDManager.newBaseManager(device);
        this.prompt = decoderPrompts;
        int expand = decoderPrompts.length / encoderIds.length;
        try (NDManager scope = root.newSubManager()) {
            NDArray ids = scope.create(encoderIds);
            NDArray mask = scope.create(encoderMask);
            NDArray states = model.encode(ids, mask); // (B, S, H)
            long[] rows = new long[decoderPrompts.length];
            for (int i = 0; i < rows.length; i++) rows[i] = i / expand;
            NDIndex repeat = new NDIndex("{}", scope.create(rows));
            cache = model.startDecoding(states.get(repeat), mask.get(repeat)); // (B × expand, S, H)
        } catch (RuntimeException e) {
            root.close();
            throw e;
        }
    }

    /** The factory {@link Generator#generate} expands the decoder prompts with. */
    public static Generator.ScorerFactory factory(
            Seq2SeqLanguageModel model, long[][] encoderIds, long[][] encoderMask, Device device) {
        return (decoderPrompts, mask) -> new Seq2SeqScorer(model, decoderPrompts, encoderIds, encoderMask, device);
    }

    /** The decoder prompt of {@code rows} rows: {@code decoder_start_token_id} alone, and its mask. */
    public static long[][][] decoderPrompt(int rows, long decoderStartTokenId) {
        long[][] ids = new long[rows][1];
        long[][] mask = new long[rows][1];
        for (int i = 0; i < rows; i++) {
            ids[i][0] = decoderStartTokenId;
            mask[i][0] = 1;
        }
        return new long[][][] {ids, mask};
    }

    @Override
    public float[][] next(long[] tokens) {
        try (NDManager step = root.newSubManager()) {
            NDArray ids = tokens == null ? step.create(prompt) : step.create(tokens, new Shape(tokens.length, 1));
            prompt = null;
            NDArray logits = model.decode(ids, cache); // (B, T, V)
            int b = (int) logits.getShape().get(0);
            int v = (int) logits.getShape().get(2);
            float[] flat =
                    logits.get(":, -1, :").toType(DataType.FLOAT32, false).toFloatArray(); // (B, V)
            float[][] rows = new float[b][];
            for (int i = 0; i < b; i++) {
                rows[i] = new float[v];
                System.arraycopy(flat, i * v, rows[i], 0, v);
            }
            return rows;
        }
    }

    @Override
    public void reorder(int[] rows) {
        long[] idx = new long[rows.length];
        for (int i = 0; i < rows.length; i++) idx[i] = rows[i];
        try (NDManager step = root.newSubManager()) {
            cache.select(step.create(idx));
        }
    }

    @Override
    public void close() {
        cache.close();
        root.close();
    }
}
