package io.sparkformers.hub;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

/**
 * HF {@code tokenizers}' truncation of one sequence ({@code tokenizer(text, truncation=True, max_length=n)}): the text's
 * tokens are cut, the special tokens its post-processor puts around them kept — BART's {@code <s> … </s>}, T5's and
 * Marian's {@code … </s>}. The layout is read once from the tokenizer itself: the specials of an empty text, and how
 * many of them come before a one-word text.
 */
public final class SpecialTokenTruncation {
    private final long[] specials;
    private final int before;

    private SpecialTokenTruncation(long[] specials, int before) {
        this.specials = specials;
        this.before = before;
    }

    /** The layout of {@code tokenizer}, which must add special tokens as the encodings to cut were made. */
    public static SpecialTokenTruncation of(HuggingFaceTokenizer tokenizer) {
        long[] empty = tokenizer.encode("").getIds();
        long[] word = tokenizer.encode("a").getIds(); // where the text goes between the specials
        int before = 0;
        while (before < empty.length && before < word.length && word[before] == empty[before]) before++;
        return new SpecialTokenTruncation(empty, before);
    }

    /** Special tokens around every sequence. */
    public int specialCount() {
        return specials.length;
    }

    /**
     * {@code ids} (an encoding with its special tokens) cut to at most {@code max} tokens, specials included and kept.
     *
     * @throws IllegalArgumentException when {@code max} leaves no room for text beside the specials
     */
    public long[] truncate(long[] ids, int max) {
        if (ids.length <= max) return ids;
        if (max <= specials.length) {
            throw new IllegalArgumentException(
                    "a sequence of at most " + max + " tokens has no room for text beside its " + specials.length
                            + " special tokens: allow more than " + specials.length);
        }
        long[] out = new long[max];
        int keep = max - specials.length; // text tokens kept
        System.arraycopy(ids, 0, out, 0, before + keep);
        System.arraycopy(specials, before, out, before + keep, specials.length - before);
        return out;
    }
}
