package io.sparkformers.spark;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.function.Function;
import java.util.function.IntUnaryOperator;

/**
 * Batching inside one partition, by tokens rather than rows: rows are read in windows of {@code window}, encoded,
 * sorted by token count within the window (so each batch pads to a length close to its rows' own), cut into batches
 * whose padded size {@code rows × longest} stays within {@code maxTokensPerBatch} and whose row count stays within
 * {@code batchSize}, run, and emitted in their original order. With sorting, a batch is also cut before a row that
 * would pull its padding efficiency (real / padded tokens) below {@link #TARGET_EFFICIENCY}, once it holds
 * {@link #MIN_CUT_TOKENS} padded tokens: short rows vary most relative to their length, and a 128-row batch of them
 * otherwise spans several lengths. At most one window is held at a time; nothing leaves
 * the partition but the emitted rows. A row that cannot be encoded (its {@link Encoded#error()} is set) skips the model
 * and is emitted with that reason. {@link #stats()} counts real and processed (padded) tokens.
 */
public final class TokenBudgetBatcher {

    /**
     * One row's tokens, or why it has none.
     *
     * @param ids   token ids (special tokens included)
     * @param mask  attention mask (1 per real token)
     * @param types token type ids
     * @param error null, or why the row is invalid ("text is null", …)
     * @param input what the row holds for a task pipeline (a {@code PipelineInput}), or null
     */
    public record Encoded(long[] ids, long[] mask, long[] types, String error, Object input) {
        public Encoded(long[] ids, long[] mask, long[] types, String error) {
            this(ids, mask, types, error, null);
        }

        public static Encoded invalid(String reason) {
            return new Encoded(null, null, null, reason, null);
        }

        public int length() {
            return ids == null ? 0 : ids.length;
        }
    }

    /**
     * A batch padded to its longest row, as (B, T) row-major arrays (padding: the tokenizer's pad id, mask 0).
     *
     * @param lengths real tokens per batch row
     * @param rows    the encoded rows in batch order
     */
    public record Batch(
            int size,
            int seqLength,
            long[] inputIds,
            long[] attentionMask,
            long[] tokenTypeIds,
            int[] lengths,
            List<Encoded> rows) {
        /** Row {@code i}'s real token ids. */
        public long[] ids(int i) {
            return rows.get(i).ids();
        }
    }

    /** Runs one batch and returns one result per batch row, in batch order. */
    @FunctionalInterface
    public interface BatchFunction {
        Object[] run(Batch batch) throws Exception;
    }

    /**
     * One emitted row.
     *
     * @param position the row's index within the partition (0-based)
     * @param value    the model's result, null when {@code error} is set
     */
    public record Scored<R>(R row, long position, Object value, String error) {}

    /** Counters of one partition. */
    public static final class Stats {
        public long rows;
        public long invalidRows;
        public long batches;
        public long realTokens;
        public long processedTokens;
        public long nanos;

        /** Real tokens / processed (padded) tokens: 1.0 means no padding at all. */
        public double paddingEfficiency() {
            return processedTokens == 0 ? 1.0 : (double) realTokens / processedTokens;
        }
    }

    /** Padding efficiency a sorted batch is kept at, where it is cut by length. */
    public static final double TARGET_EFFICIENCY = 0.9;
    /** Padded tokens a sorted batch holds before it may be cut for efficiency (fewer: per-batch costs dominate). */
    public static final int MIN_CUT_TOKENS = 512;

    /**
     * Most rows a window may hold: each holds its encoded tokens (3 × 8 bytes per token) until its batch runs, so
     * 65,536 rows of 512 tokens already take 800 MB.
     */
    public static final int MAX_SORT_WINDOW = 1 << 16;

    /**
     * Most padded tokens a batch may hold: an encoder's attention scores alone take tokens × heads × longest row ×
     * 4 bytes (2^20 tokens of 512-token rows with 12 heads: 25 GB).
     */
    public static final int MAX_TOKENS_PER_BATCH = 1 << 20;

    /**
     * Refuses a sort window or token budget whose batches could not fit in memory, naming the stage's Param and its
     * limit; {@code batchSize} needs no cap here (a batch never holds more rows than one window).
     */
    public static void checkLimits(int sortWindow, int maxTokensPerBatch) {
        if (sortWindow > MAX_SORT_WINDOW) {
            throw new IllegalArgumentException("sortWindow must be <= " + MAX_SORT_WINDOW + " rows (a window's "
                    + "encoded rows are held in memory at once), got " + sortWindow);
        }
        if (maxTokensPerBatch > MAX_TOKENS_PER_BATCH) {
            throw new IllegalArgumentException("maxTokensPerBatch must be <= " + MAX_TOKENS_PER_BATCH + " padded "
                    + "tokens (a batch's activations grow with it), got " + maxTokensPerBatch);
        }
    }

    private final int window;
    private final int maxTokensPerBatch;
    private final int batchSize;
    private final boolean sortByLength;
    private final long padId;
    private final IntUnaryOperator rowTokens;
    private final Stats stats = new Stats();

    /**
     * @param window            rows read (and sorted) at a time (> 0)
     * @param maxTokensPerBatch padded tokens per batch (> 0); a single longer row still runs, alone
     * @param batchSize         rows per batch (> 0)
     * @param sortByLength      sort by token count within each window (false: keep row order, for comparison)
     * @param padId             the tokenizer's padding id
     */
    public TokenBudgetBatcher(int window, int maxTokensPerBatch, int batchSize, boolean sortByLength, long padId) {
        this(window, maxTokensPerBatch, batchSize, sortByLength, padId, IntUnaryOperator.identity());
    }

    /**
     * As {@link #TokenBudgetBatcher(int, int, int, boolean, long)} with what one batch row costs against
     * {@code maxTokensPerBatch}: {@code rowTokens} maps the batch's longest input to the tokens each of its rows
     * holds while it runs (generation: prompt plus new tokens, times the sequences each prompt expands to, as its KV
     * cache grows), instead of the padded input alone.
     */
    public TokenBudgetBatcher(
            int window,
            int maxTokensPerBatch,
            int batchSize,
            boolean sortByLength,
            long padId,
            IntUnaryOperator rowTokens) {
        if (window <= 0 || maxTokensPerBatch <= 0 || batchSize <= 0) {
            throw new IllegalArgumentException("window, maxTokensPerBatch and batchSize must be > 0, got " + window
                    + ", " + maxTokensPerBatch + ", " + batchSize);
        }
        this.window = window;
        this.maxTokensPerBatch = maxTokensPerBatch;
        this.batchSize = batchSize;
        this.sortByLength = sortByLength;
        this.padId = padId;
        this.rowTokens = rowTokens;
    }

    /** The tokens a batch of {@code rows} rows whose longest input is {@code longest} holds against the budget. */
    long budgetTokens(int rows, int longest) {
        return (long) rows * rowTokens.applyAsInt(longest);
    }

    public Stats stats() {
        return stats;
    }

    /** Lazily scores {@code rows}: each window is encoded, batched and run when the consumer reaches it. */
    public <R> Iterator<Scored<R>> run(Iterator<R> rows, Function<R, Encoded> encode, BatchFunction fn) {
        return InputCodec.inWindows(rows, window, encode, Encoded::error, enc -> score(enc, fn), stats);
    }

    /** Scores one window; results in window order (null for invalid rows). */
    Object[] score(List<Encoded> enc, BatchFunction fn) {
        int n = enc.size();
        Object[] out = new Object[n];
        List<Integer> valid = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            if (enc.get(i).error() == null) valid.add(i);
        }
        if (sortByLength)
            valid.sort((a, b) -> Integer.compare(enc.get(a).length(), enc.get(b).length()));
        List<Integer> current = new ArrayList<>();
        int longest = 0;
        long real = 0;
        for (int i : valid) {
            int len = Math.max(1, enc.get(i).length());
            int newLongest = Math.max(longest, len);
            long padded = (long) (current.size() + 1) * newLongest;
            boolean tooPadded = sortByLength
                    && (long) current.size() * longest >= MIN_CUT_TOKENS
                    && real + len < TARGET_EFFICIENCY * padded;
            boolean overBudget = budgetTokens(current.size() + 1, newLongest) > maxTokensPerBatch;
            if (!current.isEmpty() && (overBudget || current.size() + 1 > batchSize || tooPadded)) {
                runBatch(current, enc, out, fn);
                current.clear();
                newLongest = len;
                real = 0;
            }
            current.add(i);
            longest = newLongest;
            real += len;
        }
        if (!current.isEmpty()) runBatch(current, enc, out, fn);
        return out;
    }

    private void runBatch(List<Integer> indices, List<Encoded> enc, Object[] out, BatchFunction fn) {
        int b = indices.size();
        int t = 1;
        for (int i : indices) t = Math.max(t, enc.get(i).length());
        long[] ids = new long[b * t];
        long[] mask = new long[b * t];
        long[] types = new long[b * t];
        int[] lengths = new int[b];
        Arrays.fill(ids, padId);
        List<Encoded> rows = new ArrayList<>(b);
        for (int k = 0; k < b; k++) {
            Encoded e = enc.get(indices.get(k));
            int len = e.length();
            lengths[k] = len;
            System.arraycopy(e.ids(), 0, ids, k * t, len);
            System.arraycopy(e.mask(), 0, mask, k * t, len);
            System.arraycopy(e.types(), 0, types, k * t, len);
            rows.add(e);
            stats.realTokens += len;
        }
        stats.processedTokens += (long) b * t;
        stats.batches++;
        Object[] results;
        try {
            results = fn.run(new Batch(b, t, ids, mask, types, lengths, rows));
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("batch of " + b + " rows × " + t + " tokens failed: " + e.getMessage(), e);
        }
        if (results.length != b) {
            throw new IllegalStateException(
                    "the batch function returned " + results.length + " results for " + b + " rows");
        }
        for (int k = 0; k < b; k++) out[indices.get(k)] = results[k];
    }
}
