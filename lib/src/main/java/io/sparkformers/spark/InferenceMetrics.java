package io.sparkformers.spark;

import io.sparkformers.spark.TokenBudgetBatcher.Stats;
import java.io.Serializable;
import org.apache.spark.SparkContext;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counters of one stage's scoring (tokens only for text), summed over partitions with Spark accumulators (registered on the driver, added to
 * by each partition when it ends, read back on the driver with {@link #summary()}). A partition that Spark runs twice
 * (retry, a DataFrame computed twice) counts twice, as accumulators in transformations do.
 */
public final class InferenceMetrics implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(InferenceMetrics.class);

    private final String stage;
    private final LongAccumulator rows;
    private final LongAccumulator invalidRows;
    private final LongAccumulator batches;
    private final LongAccumulator realTokens;
    private final LongAccumulator processedTokens;
    private final LongAccumulator nanos;
    private final LongAccumulator partitions;

    private InferenceMetrics(String stage, SparkContext sc) {
        this.stage = stage;
        rows = sc.longAccumulator(stage + " rows");
        invalidRows = sc.longAccumulator(stage + " invalid rows");
        batches = sc.longAccumulator(stage + " batches");
        realTokens = sc.longAccumulator(stage + " real tokens");
        processedTokens = sc.longAccumulator(stage + " processed tokens");
        nanos = sc.longAccumulator(stage + " scoring ns");
        partitions = sc.longAccumulator(stage + " partitions");
    }

    /** Registers the accumulators of one {@code transform} call on the driver. */
    public static InferenceMetrics register(SparkContext sc, String stage) {
        return new InferenceMetrics(stage, sc);
    }

    /** Adds a finished partition's counters and logs its rates. Executor side. */
    void add(Stats s, int partition) {
        rows.add(s.rows);
        invalidRows.add(s.invalidRows);
        batches.add(s.batches);
        realTokens.add(s.realTokens);
        processedTokens.add(s.processedTokens);
        nanos.add(s.nanos);
        partitions.add(1);
        double sec = Math.max(s.nanos, 1) / 1e9;
        LOG.info(String.format(
                        "%s partition %d: %d rows (%d invalid) in %d batches, %.1f rows/s",
                        stage, partition, s.rows, s.invalidRows, s.batches, s.rows / sec)
                + tokens(s.realTokens, sec, "s", s.paddingEfficiency()));
    }

    /** The token figures of a line, none for inputs without tokens (images). */
    private static String tokens(long real, double seconds, String per, double paddingEfficiency) {
        return real == 0
                ? ""
                : String.format(", %.0f tokens/%s, padding efficiency %.3f", real / seconds, per, paddingEfficiency);
    }

    /** Partitions scored (one per task). */
    public long partitions() {
        return partitions.sum();
    }

    public long rows() {
        return rows.sum();
    }

    public long invalidRows() {
        return invalidRows.sum();
    }

    public long batches() {
        return batches.sum();
    }

    public long realTokens() {
        return realTokens.sum();
    }

    public long processedTokens() {
        return processedTokens.sum();
    }

    /** Real / processed tokens over every partition so far. */
    public double paddingEfficiency() {
        return processedTokens.sum() == 0 ? 1.0 : (double) realTokens.sum() / processedTokens.sum();
    }

    /** Task-seconds spent scoring (summed over partitions running in parallel). */
    public double taskSeconds() {
        return nanos.sum() / 1e9;
    }

    /** One line for the driver log, e.g. after the action that ran the stage. */
    public String summary() {
        double sec = Math.max(taskSeconds(), 1e-9);
        return String.format(
                        "%s: %d rows (%d invalid) over %d partitions, %d batches, %.1f rows/task-s",
                        stage, rows(), invalidRows(), partitions.sum(), batches(), rows() / sec)
                + tokens(realTokens(), sec, "task-s", paddingEfficiency());
    }

    /** Logs {@link #summary()} at INFO on the driver. */
    public void log() {
        LOG.info(summary());
    }
}
