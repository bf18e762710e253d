package io.sparkformers.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkformers.train.DataCollatorWithPadding.Batch;
import io.sparkformers.train.DataCollatorWithPadding.Example;
import io.sparkformers.train.DataCollatorWithPadding.LabelKind;
import io.sparkformers.train.DataCollatorWithPadding.MultiLabel;
import io.sparkformers.train.DataCollatorWithPadding.Regression;
import io.sparkformers.train.DataCollatorWithPadding.SingleLabel;
import io.sparkformers.train.DataCollatorWithPadding.TokenLabels;
import java.util.List;
import org.junit.jupiter.api.Test;

class DataCollatorWithPaddingTest {

    @Test
    void padsEveryRowToTheLongestWithPadIdAndZeroMask() {
        Batch b = new DataCollatorWithPadding(0)
                .collate(List.of(
                        new Example(new long[] {101, 7, 102}, null, new long[] {0, 0, 0}, new SingleLabel(1)),
                        new Example(
                                new long[] {101, 7, 8, 9, 102}, null, new long[] {0, 0, 1, 1, 1}, new SingleLabel(0))));
        assertEquals(2, b.batchSize());
        assertEquals(5, b.seqLength());
        assertArrayEquals(new long[] {101, 7, 102, 0, 0, 101, 7, 8, 9, 102}, b.inputIds());
        assertArrayEquals(new long[] {1, 1, 1, 0, 0, 1, 1, 1, 1, 1}, b.attentionMask());
        assertArrayEquals(new long[] {0, 0, 0, 0, 0, 0, 0, 1, 1, 1}, b.tokenTypeIds());
        assertArrayEquals(new int[] {3, 5}, b.lengths());
        assertEquals(8, b.realTokens());
        assertEquals(LabelKind.SINGLE_LABEL, b.labelKind());
        assertArrayEquals(new long[] {1, 0}, b.labelIds());
        assertArrayEquals(new long[] {2}, b.labelShape());
    }

    @Test
    void padToMultipleOfEightRoundsTheLengthUp() {
        DataCollatorWithPadding c = new DataCollatorWithPadding(0, 8);
        assertEquals(16, c.collate(List.of(new Example(new long[9], null))).seqLength());
        assertEquals(8, c.collate(List.of(new Example(new long[8], null))).seqLength());
        assertEquals(8, c.collate(List.of(new Example(new long[1], null))).seqLength());
    }

    @Test
    void tokenLabelsArePaddedWithMinus100() {
        Batch b = new DataCollatorWithPadding(0, 4)
                .collate(List.of(
                        new Example(new long[] {101, 5, 102}, new TokenLabels(new int[] {-100, 3, -100})),
                        new Example(new long[] {101, 102}, new TokenLabels(new int[] {-100, -100}))));
        assertEquals(4, b.seqLength());
        assertArrayEquals(new long[] {-100, 3, -100, -100, -100, -100, -100, -100}, b.labelIds());
        assertArrayEquals(new long[] {2, 4}, b.labelShape());
    }

    @Test
    void multiLabelAndRegressionLabelsAreFloats() {
        DataCollatorWithPadding c = new DataCollatorWithPadding(0);
        Batch multi = c.collate(List.of(
                new Example(new long[] {1}, new MultiLabel(new float[] {1, 0, 1})),
                new Example(new long[] {1, 2}, new MultiLabel(new float[] {0, 1, 0}))));
        assertArrayEquals(new float[] {1, 0, 1, 0, 1, 0}, multi.labelValues());
        assertArrayEquals(new long[] {2, 3}, multi.labelShape());
        Batch reg = c.collate(List.of(
                new Example(new long[] {1}, new Regression(0.5f)), new Example(new long[] {1}, new Regression(-2f))));
        assertEquals(LabelKind.REGRESSION, reg.labelKind());
        assertArrayEquals(new float[] {0.5f, -2f}, reg.labelValues());
    }

    @Test
    void rejectsMixedLabelKindsAndMisalignedTokenLabels() {
        DataCollatorWithPadding c = new DataCollatorWithPadding(0);
        IllegalArgumentException mixed = assertThrows(
                IllegalArgumentException.class,
                () -> c.collate(
                        List.of(new Example(new long[] {1}, new SingleLabel(0)), new Example(new long[] {1}, null))));
        assertTrue(
                mixed.getMessage().contains("example 1 has a NONE label but example 0 has SINGLE_LABEL"),
                mixed.getMessage());
        IllegalArgumentException misaligned = assertThrows(
                IllegalArgumentException.class, () -> new Example(new long[] {1, 2}, new TokenLabels(new int[] {0})));
        assertTrue(misaligned.getMessage().contains("token labels have 1 entries for 2 tokens"));
        assertThrows(IllegalArgumentException.class, () -> c.collate(List.of()));
    }
}
