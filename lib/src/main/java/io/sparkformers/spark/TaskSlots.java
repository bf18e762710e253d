package io.sparkformers.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.monotonically_increasing_id;

import java.util.Arrays;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Uses every task slot for a batch input read into fewer partitions than the cluster has slots: a CSV read with
 * {@code multiLine} (as {@code predict} reads it: quoted texts may hold line breaks) is never split, so one 3,000-row
 * file scored on one core while the others idled.
 *
 * <p>The rows are spread by range over a row number that keeps the input order: {@code monotonically_increasing_id}
 * (partition index in the upper bits, position below, so increasing in input order; no job of its own, unlike
 * {@code zipWithIndex}), {@code repartitionByRange} on it into one contiguous run of rows per slot (partition i holds
 * rows before partition i + 1's), then {@code sortWithinPartitions} to undo the shuffle's arrival order. Output part
 * files then follow the input order and every column passes through. Reading in smaller splits
 * ({@code spark.sql.files.maxPartitionBytes}) was the other choice: it cannot split a multi-line CSV or a one-row-group
 * Parquet file, and splits by bytes, not rows. The range shuffle costs a sampling pass and one exchange of the input
 * rows, noise beside model inference (tens of rows per task-second). Adaptive execution keeps a partition count given
 * explicitly.
 */
public final class TaskSlots {

    private TaskSlots() {}

    /** Task slots of the session's cluster: default parallelism over {@code spark.task.cpus}, at least 1. */
    public static int of(SparkSession spark) {
        int cpus = Math.max(1, spark.sparkContext().getConf().getInt("spark.task.cpus", 1));
        return Math.max(1, spark.sparkContext().defaultParallelism() / cpus);
    }

    /**
     * {@code df} in {@code slots} partitions, rows in input order, when it has fewer partitions than that; otherwise
     * (or when streaming) {@code df} itself.
     */
    public static Dataset<Row> spread(Dataset<Row> df, int slots) {
        if (df.isStreaming()) return df;
        int partitions = df.rdd().getNumPartitions();
        if (partitions >= slots) return df;
        String row = "__sparkformers_row";
        while (Arrays.asList(df.columns()).contains(row)) row = row + "_";
        System.err.printf(
                "input in %d partition(s), %d task slots: spread by row range, order kept%n", partitions, slots);
        return df.withColumn(row, monotonically_increasing_id())
                .repartitionByRange(slots, col(row))
                .sortWithinPartitions(row)
                .drop(row);
    }
}
