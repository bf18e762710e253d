package io.sparkformers.generation;

/**
 * What the search needs of a model: the next-token logits of every row, one position at a time, and a cache that
 * follows the rows when beam search reorders them. A decoder-only model ({@link CausalLmScorer}) and an
 * encoder-decoder model implement it; the search knows neither.
 */
public interface TokenScorer extends AutoCloseable {

    /**
     * The logits of the next token of every row.
     *
     * @param tokens the token each row just took (B), or null on the first call (the prompt)
     * @return (B, vocab) float32 logits, owned by the caller
     */
    float[][] next(long[] tokens);

    /** Keeps rows {@code rows} of the current batch, in that order (a row may be taken several times). */
    void reorder(int[] rows);

    /** Frees the cache. */
    @Override
    void close();
}
