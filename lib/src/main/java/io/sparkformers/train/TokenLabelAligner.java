package io.sparkformers.train;

import java.util.function.IntUnaryOperator;

/**
 * Word-level labels to word-piece labels, as HF's {@code run_ner.py} {@code tokenize_and_align_labels}: the first
 * piece of each word carries the word's label; special tokens (word id -1, DJL's {@code Encoding.getWordIds()} for
 * HF's None) and, with {@code label_all_tokens=false}, the following pieces get {@code -100}.
 */
public final class TokenLabelAligner {

    private TokenLabelAligner() {}

    /** {@code label_all_tokens=false}: only the first piece of a word is labelled. */
    public static int[] align(int[] wordLabels, long[] wordIds) {
        return align(wordLabels, wordIds, false, IntUnaryOperator.identity());
    }

    /**
     * @param labelAllTokens HF {@code label_all_tokens}: label every piece of a word
     * @param bToI           with labelAllTokens, maps a B- label to its I- label for the following pieces (HF's
     *                       {@code b_to_i_label}); identity otherwise
     */
    public static int[] align(int[] wordLabels, long[] wordIds, boolean labelAllTokens, IntUnaryOperator bToI) {
        int[] out = new int[wordIds.length];
        long previous = -1;
        for (int i = 0; i < wordIds.length; i++) {
            long w = wordIds[i];
            if (w < 0) {
                out[i] = DataCollatorWithPadding.IGNORE_INDEX;
            } else {
                if (w >= wordLabels.length) {
                    throw new IllegalArgumentException("token " + i + " belongs to word " + w + " but only "
                            + wordLabels.length + " word labels were given");
                }
                int label = wordLabels[(int) w];
                if (w != previous) {
                    out[i] = label;
                } else {
                    out[i] = labelAllTokens ? bToI.applyAsInt(label) : DataCollatorWithPadding.IGNORE_INDEX;
                }
            }
            previous = w; // HF updates it for special tokens too
        }
        return out;
    }
}
