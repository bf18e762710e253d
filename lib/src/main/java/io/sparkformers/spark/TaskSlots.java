package io.sparkformers.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.monotonically_increasing_id;

import java.util.Arrays;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Uses every task slot for a batch input read into fewer partitions than the cluster has slots: a CSV read with
 * {@code multiLine} (as {@code predict} reads it: quoted texts may hold line breaks) is never split, so one 3,000-row
 * file scored on one core while the others idled.
 *
 * <p>The rows are spread by range over a row number that keeps the input order: {@code monotonically_increasing_id}
 * (partition index in the upper bits, position below, so increasing in input order; no job of its own, unlike
 * {@code zipWithIndex}), {@code repartitionByRange} on it into one contiguous run of rows per slot (partition i holds
 * rows before partition i + 1's), then {@code sortWithinPartitions} to undo the shuffle's arrival order. Output part
 * files then follow the input order and every column passes through. The row number stays on as {@link #ROW_ID} through
 * scoring, so a bad row is named by its place in the input ({@link #inputRow}), not in the spread partition; drop it
 * with {@link #withoutRowId} before writing. Reading in smaller splits
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
     * The row number {@link #spread} adds: {@code monotonically_increasing_id}, the input partition in the upper 31
     * bits and the row within it in the lower 33. The scoring stages name a bad row from it when the input has it.
     */
    public static final String ROW_ID = "__sparkformers_row";

    private static final long ROW_BITS = (1L << 33) - 1;

    /**
     * {@code df} in {@code slots} partitions, rows in input order, with the {@link #ROW_ID} column added, when it has
     * fewer partitions than that; otherwise (or when streaming, or when the input has a column of that name) {@code df}
     * itself.
     */
    public static Dataset<Row> spread(Dataset<Row> df, int slots) {
        if (df.isStreaming() || Arrays.asList(df.columns()).contains(ROW_ID)) return df;
        int partitions = df.rdd().getNumPartitions();
        if (partitions >= slots) return df;
        System.err.printf(
                "input in %d partition(s), %d task slots: spread by row range, order kept%n", partitions, slots);
        return df.withColumn(ROW_ID, monotonically_increasing_id())
                .repartitionByRange(slots, col(ROW_ID))
                .sortWithinPartitions(ROW_ID);
    }

    /** {@code df} without the {@link #ROW_ID} column, or {@code df} itself when it has none. */
    public static Dataset<Row> withoutRowId(Dataset<Row> df) {
        return Arrays.asList(df.columns()).contains(ROW_ID) ? df.drop(ROW_ID) : df;
    }

    /** The index of {@link #spread}'s {@link #ROW_ID} column in {@code schema} (non-null longs), or -1. */
    static int rowIdIndex(StructType schema) {
        for (int i = 0; i < schema.fields().length; i++) {
            StructField f = schema.fields()[i];
            if (f.name().equals(ROW_ID) && f.dataType().equals(DataTypes.LongType) && !f.nullable()) return i;
        }
        return -1;
    }

    /** "row R of partition P" of the input, from a {@link #ROW_ID} value. */
    static String inputRow(long rowId) {
        return "row " + (rowId & ROW_BITS) + " of partition " + (rowId >>> 33);
    }
}
