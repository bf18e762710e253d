package io.sparkformers.spark;

import io.sparkformers.nn.ComputeDtype;
import io.sparkformers.spark.ScoringStage.Columns;
import io.sparkformers.spark.ScoringStage.Invalid;
import io.sparkformers.spark.TokenBudgetBatcher.Scored;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.TaskCompletionListener;
import scala.Predef$;

/**
 * The per-partition function of every scoring stage: open the stage's {@link InputCodec} on the executor's cached
 * model, score rows lazily, emit them in input order under {@code handleInvalid} (the one place that decides what an
 * invalid row becomes), release the model and count when the partition ends. Holds plain values only.
 */
final class PartitionScorer implements FlatMapFunction<Iterator<Row>, Row> {
    private static final long serialVersionUID = 1L;

    private final String stage;
    private final ModelSource source;
    private final String device;
    private final ComputeDtype dtype;
    private final String handleInvalid;
    private final String errorCol;
    private final InputCodec codec;
    private final DataType[] outputTypes;
    private final int outputs;
    private final InferenceMetrics metrics;
    private final int rowId;

    /**
     * @param stage   the stage's name in messages and metrics
     * @param outputTypes the types of the columns each row gains (besides the error column)
     * @param rowId   the index of the input's {@link TaskSlots#ROW_ID} column, or -1: a bad row is named by its place
     *                in the input from it, not by its place in a partition {@link TaskSlots#spread} made
     */
    PartitionScorer(
            String stage,
            ModelSource source,
            String device,
            ComputeDtype dtype,
            String handleInvalid,
            String errorCol,
            InputCodec codec,
            DataType[] outputTypes,
            InferenceMetrics metrics,
            int rowId) {
        this.stage = stage;
        this.source = source;
        this.device = device;
        this.dtype = dtype;
        this.handleInvalid = handleInvalid;
        this.errorCol = errorCol;
        this.codec = codec;
        this.outputTypes = outputTypes.clone();
        this.outputs = outputTypes.length;
        this.metrics = metrics;
        this.rowId = rowId;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) throws Exception {
        if (!rows.hasNext()) return List.<Row>of().iterator();
        TaskContext tc = TaskContext.get();
        int partition = tc == null ? -1 : tc.partitionId();
        InputCodec.Partition scoring = codec.open(source.use(), Devices.forTask(tc, device), dtype, partition);
        Runnable finish = new Runnable() {
            private boolean done;

            @Override
            public void run() {
                if (done) return;
                done = true;
                scoring.close();
                metrics.add(scoring.stats(), partition);
            }
        };
        if (tc != null) tc.addTaskCompletionListener((TaskCompletionListener) ctx -> finish.run());
        Iterator<Scored<Row>> scored = scoring.score(rows);
        return new Iterator<>() {
            private Row next;

            @Override
            public boolean hasNext() {
                while (next == null && scored.hasNext()) next = emit(scored.next(), partition);
                if (next == null) finish.run();
                return next != null;
            }

            @Override
            public Row next() {
                if (!hasNext()) throw new NoSuchElementException();
                Row r = next;
                next = null;
                return r;
            }
        };
    }

    /** The output row, or null to drop it (skip). */
    private Row emit(Scored<Row> s, int partition) {
        boolean keep = handleInvalid.equals(ScoringStage.KEEP);
        String error = s.error();
        Object value = s.value();
        if (value instanceof Invalid inv) {
            error = inv.reason();
            value = null;
        }
        if (error != null) {
            if (handleInvalid.equals(ScoringStage.SKIP)) return null;
            if (!keep) {
                String where = rowId >= 0
                        ? TaskSlots.inputRow(s.row().getLong(rowId))
                        : "row " + s.position() + " of partition " + partition;
                throw new IllegalArgumentException(stage + ": " + where
                        + " (0-based, in partition order) has invalid " + codec.noun() + " in column '"
                        + codec.column() + "': " + error + ". Set handleInvalid to 'skip' to drop such rows or 'keep' "
                        + "to flag them in '" + errorCol + "'");
            }
        }
        Row in = s.row();
        int n = in.length();
        Object[] values = new Object[n + outputs + (keep ? 1 : 0)];
        for (int i = 0; i < n; i++) values[i] = in.get(i);
        if (value instanceof Columns c) {
            for (int i = 0; i < outputs; i++) values[n + i] = external(c.values()[i], outputTypes[i]);
        } else {
            values[n] = external(value, outputTypes[0]);
        }
        if (keep) values[n + outputs] = error;
        return RowFactory.create(values);
    }

    /**
     * A value in the external type Spark's own row decoder gives for {@code type}: arrays (Java arrays or lists) as
     * Scala {@code Seq}s, struct fields likewise. Chained stages hand rows to each other as objects (the optimizer
     * drops the encode/decode between two {@code mapPartitions}), so the next stage, or a user's typed
     * {@code map}, reads {@code Row.getList}/{@code getSeq} on exactly what it would read from a table.
     */
    static Object external(Object value, DataType type) {
        if (value == null) return null;
        if (type instanceof ArrayType array) {
            if (value instanceof scala.collection.Seq<?>) return value;
            if (value instanceof int[] a) return Predef$.MODULE$.wrapIntArray(a);
            if (value instanceof long[] a) return Predef$.MODULE$.wrapLongArray(a);
            if (value instanceof float[] a) return Predef$.MODULE$.wrapFloatArray(a);
            if (value instanceof double[] a) return Predef$.MODULE$.wrapDoubleArray(a);
            if (value instanceof boolean[] a) return Predef$.MODULE$.wrapBooleanArray(a);
            Object[] items = value instanceof List<?> l ? l.toArray() : (Object[]) value;
            DataType element = array.elementType();
            if (element instanceof ArrayType || element instanceof StructType) {
                items = Arrays.copyOf(items, items.length, Object[].class); // a float[][] holds no Seq
                for (int i = 0; i < items.length; i++) items[i] = external(items[i], element);
            }
            return Predef$.MODULE$.wrapRefArray(items);
        }
        if (type instanceof StructType struct && value instanceof Row row) {
            Object[] fields = null;
            for (int i = 0; i < row.length(); i++) {
                Object v = row.get(i);
                Object e = external(v, struct.fields()[i].dataType());
                if (e != v && fields == null) {
                    fields = new Object[row.length()];
                    for (int j = 0; j < i; j++) fields[j] = row.get(j);
                }
                if (fields != null) fields[i] = e;
            }
            return fields == null ? row : new GenericRowWithSchema(fields, struct);
        }
        return value;
    }
}
