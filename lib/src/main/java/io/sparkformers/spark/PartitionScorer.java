package io.sparkformers.spark;

import io.sparkformers.spark.ScoringStage.Columns;
import io.sparkformers.spark.ScoringStage.Invalid;
import io.sparkformers.spark.TokenBudgetBatcher.Scored;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.TaskCompletionListener;

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
    private final String handleInvalid;
    private final String errorCol;
    private final InputCodec codec;
    private final int outputs;
    private final InferenceMetrics metrics;

    /**
     * @param stage   the stage's name in messages and metrics
     * @param outputs how many columns each row gains (besides the error column)
     */
    PartitionScorer(
            String stage,
            ModelSource source,
            String device,
            String handleInvalid,
            String errorCol,
            InputCodec codec,
            int outputs,
            InferenceMetrics metrics) {
        this.stage = stage;
        this.source = source;
        this.device = device;
        this.handleInvalid = handleInvalid;
        this.errorCol = errorCol;
        this.codec = codec;
        this.outputs = outputs;
        this.metrics = metrics;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) throws Exception {
        if (!rows.hasNext()) return List.<Row>of().iterator();
        TaskContext tc = TaskContext.get();
        int partition = tc == null ? -1 : tc.partitionId();
        InputCodec.Partition scoring = codec.open(source.use(), Devices.forTask(tc, device), partition);
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
                throw new IllegalArgumentException(stage + ": row " + s.position() + " of partition " + partition
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
            System.arraycopy(c.values(), 0, values, n, outputs);
        } else {
            values[n] = value;
        }
        if (keep) values[n + outputs] = error;
        return RowFactory.create(values);
    }
}
