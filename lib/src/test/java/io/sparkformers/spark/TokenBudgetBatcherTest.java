package io.sparkformers.spark;

import static org.junit.jupiter.api.Assertions.*;

import io.sparkformers.spark.TokenBudgetBatcher.Batch;
import io.sparkformers.spark.TokenBudgetBatcher.Encoded;
import io.sparkformers.spark.TokenBudgetBatcher.Scored;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Token-budget batching: budget and row caps, order restored, padding counted, invalid rows bypass the model. */
class TokenBudgetBatcherTest {

    /** Row i has lengths[i] tokens, all equal to i (so results can be checked against the row). */
    private static Encoded row(int i, int len) {
        if (len == 0) return Encoded.invalid("text is empty");
        long[] ids = new long[len];
        Arrays.fill(ids, i);
        long[] ones = new long[len];
        Arrays.fill(ones, 1);
        return new Encoded(ids, ones, new long[len], null);
    }

    @Test
    void batchesStayWithinTheTokenBudgetAndOrderIsRestored() {
        int[] lengths = {5, 30, 2, 0, 17, 30, 9, 1, 12, 3};
        List<Integer> rows = new ArrayList<>();
        for (int i = 0; i < lengths.length; i++) rows.add(i);
        List<Batch> seen = new ArrayList<>();
        TokenBudgetBatcher b = new TokenBudgetBatcher(4, 40, 3, true, 0);
        List<Scored<Integer>> out = new ArrayList<>();
        b.run(rows.iterator(), i -> row(i, lengths[i]), batch -> {
                    seen.add(batch);
                    Object[] r = new Object[batch.size()];
                    for (int k = 0; k < r.length; k++) r[k] = batch.ids(k)[0]; // the row index
                    return r;
                })
                .forEachRemaining(out::add);

        assertEquals(lengths.length, out.size());
        for (int i = 0; i < out.size(); i++) {
            assertEquals(i, out.get(i).row());
            assertEquals(i, out.get(i).position());
            if (lengths[i] == 0) {
                assertEquals("text is empty", out.get(i).error());
                assertNull(out.get(i).value());
            } else {
                assertEquals((long) i, out.get(i).value(), "result of row " + i + " lands on row " + i);
            }
        }
        for (Batch batch : seen) {
            assertTrue(batch.size() <= 3, "batchSize cap");
            assertTrue(
                    batch.size() == 1 || batch.size() * batch.seqLength() <= 40,
                    "token budget: " + batch.size() + " x " + batch.seqLength());
            for (int k = 1; k < batch.size(); k++) assertTrue(batch.lengths()[k - 1] <= batch.lengths()[k], "sorted");
        }
        assertEquals(1, b.stats().invalidRows);
        assertEquals(Arrays.stream(lengths).sum(), b.stats().realTokens);
    }

    @Test
    void sortingByLengthCutsPadding() {
        int[] lengths = new int[512];
        java.util.Random rnd = new java.util.Random(7);
        for (int i = 0; i < lengths.length; i++)
            lengths[i] = 1 + (rnd.nextBoolean() ? rnd.nextInt(8) : rnd.nextInt(120));
        double[] eff = new double[2];
        for (int s = 0; s < 2; s++) {
            TokenBudgetBatcher b = new TokenBudgetBatcher(256, 4096, 32, s == 1, 0);
            List<Integer> rows = new ArrayList<>();
            for (int i = 0; i < lengths.length; i++) rows.add(i);
            b.run(rows.iterator(), i -> row(i, lengths[i]), batch -> new Object[batch.size()])
                    .forEachRemaining(x -> {});
            eff[s] = b.stats().paddingEfficiency();
        }
        assertTrue(eff[1] > 0.75 && eff[1] > eff[0] + 0.3, "sorted " + eff[1] + " vs unsorted " + eff[0]);
    }

    @Test
    void sortedBatchesOfMixedLengthTextStayAtTheTargetEfficiency() {
        // the bench's mix: 80% short rows (5–29 tokens), 20% long (32–251), 600 rows in one window
        java.util.Random rnd = new java.util.Random(17);
        int[] lengths = new int[600];
        for (int i = 0; i < lengths.length; i++) {
            lengths[i] = 2 + (rnd.nextDouble() < 0.8 ? 3 + rnd.nextInt(25) : 30 + rnd.nextInt(220));
        }
        TokenBudgetBatcher b = new TokenBudgetBatcher(1024, 8192, 128, true, 0);
        List<Integer> rows = new ArrayList<>();
        for (int i = 0; i < lengths.length; i++) rows.add(i);
        List<Integer> sizes = new ArrayList<>();
        b.run(rows.iterator(), i -> row(i, lengths[i]), batch -> {
                    sizes.add(batch.size() * batch.seqLength());
                    return new Object[batch.size()];
                })
                .forEachRemaining(x -> {});
        assertTrue(
                b.stats().paddingEfficiency() >= TokenBudgetBatcher.TARGET_EFFICIENCY,
                "efficiency " + b.stats().paddingEfficiency());
        assertTrue(b.stats().batches <= 20, b.stats().batches + " batches of padded sizes " + sizes);
    }

    @Test
    void aRowLongerThanTheBudgetRunsAlone() {
        List<Integer> sizes = new ArrayList<>();
        new TokenBudgetBatcher(8, 10, 8, true, 0)
                .run(List.of(0, 1, 2).iterator(), i -> row(i, i == 1 ? 50 : 3), batch -> {
                    sizes.add(batch.size());
                    return new Object[batch.size()];
                })
                .forEachRemaining(x -> {});
        assertEquals(List.of(2, 1), sizes);
    }

    @Test
    void paddingUsesThePadIdAndZeroMask() {
        new TokenBudgetBatcher(8, 100, 8, true, 99)
                .run(List.of(0, 1).iterator(), i -> row(i + 1, i == 0 ? 2 : 4), batch -> {
                    assertEquals(4, batch.seqLength());
                    assertArrayEquals(new long[] {1, 1, 99, 99, 2, 2, 2, 2}, batch.inputIds());
                    assertArrayEquals(new long[] {1, 1, 0, 0, 1, 1, 1, 1}, batch.attentionMask());
                    return new Object[batch.size()];
                })
                .forEachRemaining(x -> {});
    }

    @Test
    void aHugeSortWindowOrTokenBudgetIsRefusedNamingTheParamAndItsLimit() {
        IllegalArgumentException w = assertThrows(
                IllegalArgumentException.class, () -> TokenBudgetBatcher.checkLimits(1_000_000_000, 16384));
        assertEquals(
                "sortWindow must be <= 65536 rows (a window's encoded rows are held in memory at once), got 1000000000",
                w.getMessage());
        IllegalArgumentException t = assertThrows(
                IllegalArgumentException.class, () -> TokenBudgetBatcher.checkLimits(1024, Integer.MAX_VALUE));
        assertTrue(t.getMessage().startsWith("maxTokensPerBatch must be <= 1048576 padded tokens"), t.getMessage());
        TokenBudgetBatcher.checkLimits(TokenBudgetBatcher.MAX_SORT_WINDOW, TokenBudgetBatcher.MAX_TOKENS_PER_BATCH);
    }

    @Test
    void hugeWindowAndBatchSizeAllocateForTheRowsPresentNotForTheParam() {
        // before: new ArrayList<>(window) asked for a 2^31-element array ("Requested array size exceeds VM limit")
        TokenBudgetBatcher b = new TokenBudgetBatcher(Integer.MAX_VALUE, Integer.MAX_VALUE, 1_000_000_000, true, 0);
        List<Scored<Integer>> out = new ArrayList<>();
        b.run(List.of(0, 1, 2).iterator(), i -> row(i, 3 + i), batch -> new Object[batch.size()])
                .forEachRemaining(out::add);
        assertEquals(3, out.size());
        assertEquals(1, b.stats().batches);
    }
}
