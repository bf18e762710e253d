package io.sparkformers.generation;

/**
 * One of HF's {@code LogitsProcessor}s: changes the next-token scores of every row in place, given the tokens so far.
 * Filtered tokens get -inf, as HF's {@code filter_value}.
 */
public interface LogitsProcessor {

    /**
     * @param sequences every row's tokens, prompt (with its padding) included; only the first {@code length} count
     * @param length    tokens so far per row (HF {@code input_ids.shape[-1]})
     * @param scores    (B, vocab) scores, changed in place
     */
    void process(long[][] sequences, int length, float[][] scores);

    /** The HF class this one ports, e.g. {@code TopKLogitsWarper}. */
    String hfName();
}
