package io.sparkformers.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Hand-built windows checked against HF run_qa.py prepare_train_features by hand. */
class QaFeaturesTest {

    // context "aa bb cc dd ee ff": one token per word
    private static final long[] CONTEXT_IDS = {10, 11, 12, 13, 14, 15};
    private static final int[] STARTS = {0, 3, 6, 9, 12, 15};
    private static final int[] ENDS = {2, 5, 8, 11, 14, 17};
    private static final long[] QUESTION = {50};
    private static final long CLS = 101;
    private static final long SEP = 102;

    /** max_length 7 leaves 3 context tokens per window; stride 1 starts windows at tokens 0, 2 and 4. */
    private static List<QaFeatures.Feature> features(int startChar, int endChar) {
        return QaFeatures.features(QUESTION, CONTEXT_IDS, STARTS, ENDS, CLS, SEP, 7, 1, startChar, endChar);
    }

    @Test
    void windowsOverlapByTheStrideLikeHfTokenizers() {
        List<int[]> w = QaFeatures.windows(6, 3, 1);
        assertEquals(3, w.size());
        assertArrayEquals(new int[] {0, 3}, w.get(0));
        assertArrayEquals(new int[] {2, 5}, w.get(1));
        assertArrayEquals(new int[] {4, 6}, w.get(2));
        assertEquals(1, QaFeatures.windows(3, 3, 0).size());
    }

    @Test
    void windowLayoutIsClsQuestionSepContextSep() {
        QaFeatures.Feature f = features(-1, -1).get(1);
        assertArrayEquals(new long[] {101, 50, 102, 12, 13, 14, 102}, f.inputIds());
        assertArrayEquals(new long[] {0, 0, 0, 1, 1, 1, 1}, f.tokenTypeIds());
        assertArrayEquals(new int[] {-1, 0, -1, 1, 1, 1, -1}, f.sequenceIds());
        assertArrayEquals(new int[] {-1, -1, -1, 6, 9, 12, -1}, f.offsetStarts());
        assertEquals(2, f.contextStart());
        assertEquals(0, f.startPosition()); // no answer: CLS
    }

    @Test
    void answerInsideWindowTwoOnlyIsLabelledThereAndClsElsewhere() {
        List<QaFeatures.Feature> f = features(9, 11); // "dd" = context token 3
        assertEquals(0, f.get(0).startPosition());
        assertEquals(0, f.get(0).endPosition());
        assertEquals(4, f.get(1).startPosition()); // [CLS] q [SEP] cc dd ee: dd at 4
        assertEquals(4, f.get(1).endPosition());
        assertEquals(0, f.get(2).startPosition());
        assertEquals(0, f.get(2).endPosition());
    }

    @Test
    void answerSpanningWindowsIsClsEverywhere() {
        for (QaFeatures.Feature f : features(3, 14)) { // "bb cc dd ee" fits in no window
            assertEquals(0, f.startPosition());
            assertEquals(0, f.endPosition());
        }
    }

    @Test
    void partialTokenAnswerAndAnswerAtTheWindowEdgeMapToTheirTokens() {
        QaFeatures.Feature w2 = features(9, 10).get(1); // "d", inside token dd
        assertEquals(4, w2.startPosition());
        assertEquals(4, w2.endPosition());
        QaFeatures.Feature w3 = features(12, 17).get(2); // "ee ff": the last window's whole context
        assertEquals(3, w3.startPosition());
        assertEquals(4, w3.endPosition());
    }

    @Test
    void strideNotSmallerThanTheWindowIsAClearError() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> QaFeatures.features(QUESTION, CONTEXT_IDS, STARTS, ENDS, CLS, SEP, 7, 3, -1, -1));
        assertTrue(e.getMessage().contains("doc_stride (3) must be in [0, 3)"), e.getMessage());
        IllegalArgumentException noRoom = assertThrows(
                IllegalArgumentException.class,
                () -> QaFeatures.features(QUESTION, CONTEXT_IDS, STARTS, ENDS, CLS, SEP, 4, 0, -1, -1));
        assertTrue(noRoom.getMessage().contains("leaves no room for the context"), noRoom.getMessage());
    }
}
