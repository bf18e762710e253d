package io.sparkformers.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkformers.train.DataCollatorForLanguageModeling.Example;
import io.sparkformers.train.DataCollatorWithPadding.Batch;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** HF DataCollatorForLanguageModeling semantics: rates, specials, labels, whole words, seeding. */
class DataCollatorForLanguageModelingTest {

    private static final long PAD = 0;
    private static final long CLS = 101;
    private static final long SEP = 102;
    private static final long MASK = 103;
    private static final long UNK = 100;
    private static final int VOCAB = 30522;

    private static DataCollatorForLanguageModeling collator(boolean wholeWord) {
        return DataCollatorForLanguageModeling.withDefaults(
                PAD, MASK, VOCAB, new long[] {CLS, SEP, MASK, UNK}, wholeWord);
    }

    /** [CLS] w… [SEP] with ordinary ids in [1000, 30000). */
    private static long[] row(SplittableRandom r, int words) {
        long[] ids = new long[words + 2];
        ids[0] = CLS;
        for (int i = 1; i <= words; i++) ids[i] = 1000 + r.nextInt(29000);
        ids[words + 1] = SEP;
        return ids;
    }

    @Test
    void choosesFifteenPercentAndReplacesEightyTenTenWithinBinomialTolerance() {
        DataCollatorForLanguageModeling c = collator(false);
        SplittableRandom r = new SplittableRandom(1);
        long ordinary = 0, chosen = 0, masked = 0, random = 0, kept = 0;
        for (int batch = 0; batch < 200; batch++) {
            List<Example> rows = new ArrayList<>();
            long[] seeds = new long[8];
            for (int i = 0; i < 8; i++) {
                rows.add(new Example(row(r, 20 + r.nextInt(100)), null));
                seeds[i] = r.nextLong();
            }
            Batch b = c.collate(rows, seeds);
            int t = b.seqLength();
            for (int i = 0; i < 8; i++) {
                long[] orig = rows.get(i).inputIds();
                for (int j = 0; j < t; j++) {
                    long label = b.labelIds()[i * t + j];
                    long in = b.inputIds()[i * t + j];
                    if (j >= orig.length || orig[j] == CLS || orig[j] == SEP) {
                        assertEquals(-100, label, "special or padding at " + i + "," + j + " was chosen");
                        assertEquals(j >= orig.length ? PAD : orig[j], in);
                        continue;
                    }
                    ordinary++;
                    if (label == -100) {
                        assertEquals(orig[j], in, "an unchosen token changed");
                        continue;
                    }
                    assertEquals(orig[j], label, "the label is the original token");
                    chosen++;
                    if (in == MASK) masked++;
                    else if (in == orig[j]) kept++;
                    else random++;
                }
            }
        }
        // 4-sigma binomial bounds; a random draw equal to the original (1 in 30522) counts as kept
        assertWithin("chosen", chosen, ordinary, 0.15);
        assertWithin("[MASK]", masked, chosen, 0.8);
        assertWithin("random", random, chosen, 0.1 * (1 - 1.0 / VOCAB));
        assertWithin("unchanged", kept, chosen, 0.1 + 0.1 / VOCAB);
        System.out.printf(
                "mlm rates over %d tokens: chosen %.4f, of chosen [MASK] %.4f random %.4f unchanged %.4f%n",
                ordinary,
                chosen / (double) ordinary,
                masked / (double) chosen,
                random / (double) chosen,
                kept / (double) chosen);
    }

    private static void assertWithin(String what, long k, long n, double p) {
        double sigma = Math.sqrt(n * p * (1 - p));
        assertTrue(
                Math.abs(k - n * p) <= 4 * sigma,
                what + ": " + k + " of " + n + " = " + (k / (double) n) + ", expected " + p + " ± " + 4 * sigma / n);
    }

    @Test
    void specialTokensAndPaddingAreNeverChosenEvenAtProbabilityOne() {
        DataCollatorForLanguageModeling c = new DataCollatorForLanguageModeling(
                PAD, MASK, VOCAB, new long[] {CLS, SEP, MASK, UNK}, 1.0, 1.0, 0.0, false);
        Batch b = c.collate(
                List.of(
                        new Example(new long[] {CLS, 2000, UNK, 2001, SEP}, null),
                        new Example(new long[] {CLS, 2002, SEP}, null)),
                new long[] {1, 2});
        assertArrayEquals(new long[] {CLS, MASK, UNK, MASK, SEP, CLS, MASK, SEP, PAD, PAD}, b.inputIds());
        assertArrayEquals(new long[] {-100, 2000, -100, 2001, -100, -100, 2002, -100, -100, -100}, b.labelIds());
        assertArrayEquals(new long[] {2, 5}, b.labelShape());
        assertArrayEquals(new long[] {1, 1, 1, 1, 1, 1, 1, 1, 0, 0}, b.attentionMask());
    }

    @Test
    void wholeWordMaskingChoosesEveryPieceOfAWordOrNone() {
        DataCollatorForLanguageModeling c = collator(true);
        // "[CLS] playing football [SEP]" as play ##ing foot ##ball: offsets touch inside a word
        long[] ids = {CLS, 2000, 2001, 2002, 2003, SEP};
        long[] starts = {0, 0, 4, 8, 12, 0};
        long[] ends = {0, 4, 7, 12, 16, 0};
        boolean[] wordStarts = c.wordStarts(ids, starts, ends);
        assertArrayEquals(new boolean[] {false, true, false, true, false, false}, wordStarts);
        int both = 0, none = 0;
        for (long seed = 0; seed < 2000; seed++) {
            Batch b = c.collate(List.of(new Example(ids, wordStarts)), new long[] {seed});
            long[] l = b.labelIds();
            assertEquals(l[1] == -100, l[2] == -100, "play/##ing split at seed " + seed);
            assertEquals(l[3] == -100, l[4] == -100, "foot/##ball split at seed " + seed);
            assertEquals(-100, l[0]);
            assertEquals(-100, l[5]);
            if (l[1] != -100) both++;
            else none++;
        }
        assertWithin("words chosen", both, both + none, 0.15);
    }

    @Test
    void sameSeedsGiveTheSameMasksAndOtherSeedsOthers() {
        DataCollatorForLanguageModeling c = collator(false);
        SplittableRandom r = new SplittableRandom(3);
        List<Example> rows = List.of(new Example(row(r, 200), null), new Example(row(r, 150), null));
        Batch a = c.collate(rows, new long[] {11, 12});
        Batch again = c.collate(rows, new long[] {11, 12});
        assertArrayEquals(a.inputIds(), again.inputIds());
        assertArrayEquals(a.labelIds(), again.labelIds());
        // a row's mask depends on its own seed only, not on its batch-mates
        Batch alone = c.collate(List.of(rows.get(1)), new long[] {12});
        for (int j = 0; j < 152; j++) assertEquals(alone.labelIds()[j], a.labelIds()[a.seqLength() + j]);
        Batch other = c.collate(rows, new long[] {13, 14});
        assertFalse(java.util.Arrays.equals(a.labelIds(), other.labelIds()));
    }
}
