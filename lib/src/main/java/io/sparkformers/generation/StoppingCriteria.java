package io.sparkformers.generation;

import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * HF's stopping criteria for one row: {@code MaxLengthCriteria} (the row reached max_length), {@code
 * EosTokenCriteria} (its last token is an eos) and {@code StopStringCriteria} (its text ends with a stop string).
 * Stop strings are checked on the decoded tail of the row (a stop string can begin inside a token and must end at
 * the row's end, as HF matches them).
 */
public final class StoppingCriteria {

    private final int maxLength;
    private final GenerationConfig config;
    private final List<String> stopStrings;
    private final Function<long[], String> decoder;
    private final int tailTokens;

    /**
     * @param decoder ids → text without skipping special tokens; required when the config has stop strings
     */
    public StoppingCriteria(GenerationConfig config, int maxLength, Function<long[], String> decoder) {
        this.config = config;
        this.maxLength = maxLength;
        this.stopStrings = config.stopStrings();
        if (!stopStrings.isEmpty() && decoder == null) {
            throw new IllegalArgumentException("stop_strings need the tokenizer to decode the output");
        }
        this.decoder = decoder;
        this.tailTokens = stopStrings.stream().mapToInt(String::length).max().orElse(0) + 1;
    }

    /** Whether the row {@code sequence[0, length)} is done. */
    public boolean isDone(long[] sequence, int length) {
        if (length >= maxLength) return true;
        if (config.isEos(sequence[length - 1])) return true;
        if (stopStrings.isEmpty()) return false;
        String tail = decoder.apply(Arrays.copyOfRange(sequence, Math.max(0, length - tailTokens), length));
        for (String s : stopStrings) if (tail.endsWith(s)) return true;
        return false;
    }

    public int maxLength() {
        return maxLength;
    }
}
