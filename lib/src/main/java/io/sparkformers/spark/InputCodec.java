package io.sparkformers.spark;

import ai.djl.Device;
import io.sparkformers.nn.ComputeDtype;
import io.sparkformers.spark.TokenBudgetBatcher.Scored;
import io.sparkformers.spark.TokenBudgetBatcher.Stats;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Function;
import org.apache.spark.sql.Row;

/**
 * One input kind of the scoring stages ({@link ScoringStage}): how a partition's rows become model inputs (or the
 * reason a row cannot), how those are grouped into batches, and how a batch reaches the stage's {@link BatchScorer} on
 * the executor's cached model ({@link ExecutorModels}). Text reads tokens into token-budget batches sorted by length
 * ({@link TextCodec}); images decode into fixed-size batches ({@link ImageCodec}). {@link PartitionScorer} drives any
 * codec and emits the rows. Serializable plain values: a stage builds one per {@code transform}, closures capture it,
 * never the stage.
 */
abstract class InputCodec implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The stage's LoRA adapter as executors load it ({@link ScoringStage#adapterPath}), or null. */
    private ModelSource adapter;

    /** Sets the adapter executors merge into the model (null: none); returns this codec. */
    InputCodec withAdapter(ModelSource a) {
        adapter = a;
        return this;
    }

    /** On an executor: the adapter reference to load (a shipped one made known to this JVM first), or null. */
    String adapter() {
        return adapter == null ? null : adapter.use();
    }

    /** The column named when a row is invalid. */
    abstract String column();

    /** What an invalid row holds, in error messages: "input" (text) or "image". */
    abstract String noun();

    /**
     * Opens one partition on this executor: leases the model and loads what encoding needs.
     *
     * @param dtype     the precision of inference (the stage's {@code dtype} Param)
     * @param partition the partition id, for messages (-1 outside a Spark task)
     */
    abstract Partition open(String model, Device device, ComputeDtype dtype, int partition) throws IOException;

    /** One partition's scoring on a leased model; closing releases the lease. */
    abstract static class Partition implements AutoCloseable {
        private final ExecutorModels.Lease<?> lease;
        private final Stats stats;

        /** @param stats the counters {@link #score} fills */
        Partition(ExecutorModels.Lease<?> lease, Stats stats) {
            this.lease = lease;
            this.stats = stats;
        }

        /** The rows, scored lazily batch by batch, in input order. */
        abstract Iterator<Scored<Row>> score(Iterator<Row> rows);

        /** This partition's counters so far. */
        final Stats stats() {
            return stats;
        }

        @Override
        public final void close() {
            lease.close();
        }
    }

    /**
     * Reads {@code rows} a window at a time as the consumer reaches them, encodes each row ({@code error} says why an
     * input is unusable, or null), scores the window ({@code score}: one value per row in window order, null for the
     * invalid ones) and hands the rows out in input order with their partition position. Counts rows, invalid rows
     * and time into {@code stats}; nothing but the current window is held.
     */
    static <R, X> Iterator<Scored<R>> inWindows(
            Iterator<R> rows,
            int window,
            Function<R, X> encode,
            Function<X, String> error,
            Function<List<X>, Object[]> score,
            Stats stats) {
        return new Iterator<>() {
            private final ArrayDeque<Scored<R>> ready = new ArrayDeque<>();
            private long position;

            @Override
            public boolean hasNext() {
                if (ready.isEmpty() && rows.hasNext()) fill();
                return !ready.isEmpty();
            }

            @Override
            public Scored<R> next() {
                if (!hasNext()) throw new NoSuchElementException();
                return ready.poll();
            }

            private void fill() {
                long t0 = System.nanoTime();
                List<R> in = new ArrayList<>(Math.min(window, 1024)); // grows with the rows, not the Param
                List<X> enc = new ArrayList<>(Math.min(window, 1024));
                while (in.size() < window && rows.hasNext()) {
                    R r = rows.next();
                    in.add(r);
                    enc.add(encode.apply(r));
                }
                Object[] values = score.apply(enc);
                for (int i = 0; i < in.size(); i++) {
                    String why = error.apply(enc.get(i));
                    if (why != null) stats.invalidRows++;
                    ready.add(new Scored<>(in.get(i), position++, values[i], why));
                }
                stats.rows += in.size();
                stats.nanos += System.nanoTime() - t0;
            }
        };
    }
}
