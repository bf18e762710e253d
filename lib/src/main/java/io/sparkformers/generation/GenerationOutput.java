package io.sparkformers.generation;

/**
 * What {@link Generator#generate} returns, as HF's {@code GenerateOutput}.
 *
 * @param sequences       (B × num_return_sequences, L) prompt and generated tokens, padded with pad_token_id after
 *                        a row ends; rows of one prompt are consecutive
 * @param sequencesScores beam search: each returned beam's length-penalised log-probability (HF
 *                        {@code sequences_scores}); null otherwise
 * @param promptLength    tokens of the (padded) prompt at the start of every row
 */
public record GenerationOutput(long[][] sequences, float[] sequencesScores, int promptLength) {

    /** The tokens after the prompt in row {@code i} (the padding after an end included, as HF returns them). */
    public long[] newTokens(int i) {
        return java.util.Arrays.copyOfRange(sequences[i], promptLength, sequences[i].length);
    }
}
