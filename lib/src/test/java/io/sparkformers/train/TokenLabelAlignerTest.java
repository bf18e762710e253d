package io.sparkformers.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class TokenLabelAlignerTest {

    // "Johanson lives in Stockholm" → [CLS] johan ##son lives in stock ##holm [SEP]
    private static final long[] WORD_IDS = {-1, 0, 0, 1, 2, 3, 3, -1};
    private static final int[] WORD_LABELS = {1, 0, 0, 3}; // B-PER O O B-LOC

    @Test
    void firstPieceGetsTheWordLabelOthersAndSpecialsGetMinus100() {
        assertArrayEquals(
                new int[] {-100, 1, -100, 0, 0, 3, -100, -100}, TokenLabelAligner.align(WORD_LABELS, WORD_IDS));
    }

    @Test
    void labelAllTokensMapsBeginToInsideOnLaterPieces() {
        // B-PER=1 → I-PER=2, B-LOC=3 → I-LOC=4
        assertArrayEquals(
                new int[] {-100, 1, 2, 0, 0, 3, 4, -100},
                TokenLabelAligner.align(WORD_LABELS, WORD_IDS, true, l -> l == 1 || l == 3 ? l + 1 : l));
    }

    @Test
    void rejectsWordIdsBeyondTheLabels() {
        assertThrows(
                IllegalArgumentException.class,
                () -> TokenLabelAligner.align(new int[] {0}, new long[] {-1, 0, 1, -1}));
    }
}
