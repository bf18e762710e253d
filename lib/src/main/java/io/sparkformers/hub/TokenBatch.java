package io.sparkformers.hub;

import ai.djl.huggingface.tokenizers.Encoding;

/**
 * A batch of encodings padded to its longest row, as flat row-major arrays ready to become (B, T) tensors without
 * per-row copies.
 *
 * @param batchSize     B
 * @param seqLength     T, the longest row's length
 * @param inputIds      B × T token ids, padding = the tokenizer's pad id
 * @param attentionMask B × T, 1 for real tokens and 0 for padding
 * @param tokenTypeIds  B × T segment ids (0 for the first text, 1 for the pair)
 * @param lengths       real tokens per row
 * @param encodings     the encodings themselves (tokens, offsets, word ids for post-processing)
 */
public record TokenBatch(
        int batchSize,
        int seqLength,
        long[] inputIds,
        long[] attentionMask,
        long[] tokenTypeIds,
        int[] lengths,
        Encoding[] encodings) {

    static TokenBatch pad(Encoding[] enc, long padId) {
        int b = enc.length;
        int t = 1;
        for (Encoding e : enc) t = Math.max(t, e.getIds().length);
        long[] ids = new long[b * t];
        long[] mask = new long[b * t];
        long[] types = new long[b * t];
        int[] lengths = new int[b];
        java.util.Arrays.fill(ids, padId);
        for (int i = 0; i < b; i++) {
            long[] rowIds = enc[i].getIds();
            lengths[i] = rowIds.length;
            System.arraycopy(rowIds, 0, ids, i * t, rowIds.length);
            System.arraycopy(enc[i].getAttentionMask(), 0, mask, i * t, rowIds.length);
            System.arraycopy(enc[i].getTypeIds(), 0, types, i * t, rowIds.length);
        }
        return new TokenBatch(b, t, ids, mask, types, lengths, enc);
    }

    /** Real tokens in the batch. */
    public long realTokens() {
        long n = 0;
        for (int l : lengths) n += l;
        return n;
    }
}
