package io.sparkformers.spark;

import io.sparkformers.train.ProgressEvent;
import io.sparkformers.train.ProgressReporter;
import io.sparkformers.train.TrainerCallback;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.util.AccumulatorV2;

/**
 * Rank 0's training progress shown on the Spark driver, carried by Spark itself. Rank 0's {@link ProgressReporter}
 * appends its {@link ProgressEvent}s to an {@link Events} accumulator that travels inside the barrier task. Spark's
 * executors send the accumulators of running tasks to the driver with every heartbeat
 * ({@code Executor.reportHeartBeat}, every {@code spark.executor.heartbeatInterval}, default 10 s), which the driver
 * posts as {@code SparkListenerExecutorMetricsUpdate.accumUpdates}; the {@link Relay}, a listener registered for the
 * duration of one barrier job, hands each event it has not shown yet to the driver's printer, and the rest when the
 * job ends (from the driver's copy, into which Spark merges each finished task's value). So progress reaches the user whether the executors run in the driver's JVM (local mode) or in other JVMs
 * and hosts whose standard output nobody reads (Standalone, YARN, Kubernetes), at most a heartbeat late; the times in
 * each event are rank 0's, so speed and ETA are those of the moment the event was made.
 */
final class TrainingProgress {
    /** Events kept for the heartbeats; older ones are dropped (a driver that missed them only misses lines). */
    static final int MAX_EVENTS = 512;

    private TrainingProgress() {}

    /** Rank 0's callback: its events go into {@code events} (the accumulator deserialized in the task). */
    static TrainerCallback reporter(Events events, int worldSize) {
        return new ProgressReporter(events::add, worldSize, System::nanoTime);
    }

    /** An event with its sequence number in the run (1, 2, …), so the driver shows each once. */
    record Entry(long seq, ProgressEvent event) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /**
     * The events of one barrier job, in order. Thread-safe: the training thread appends while Spark's heartbeat thread
     * serializes it (other JVMs) or reads its value (local mode). Consecutive STEP events collapse into the latest, so
     * the list grows by logs and evaluations only, and is capped at {@link #MAX_EVENTS}.
     */
    static final class Events extends AccumulatorV2<ProgressEvent, List<Entry>> {
        private static final long serialVersionUID = 1L;
        private final ArrayList<Entry> entries = new ArrayList<>(); // guarded by this
        private long seq; // guarded by this

        @Override
        public synchronized boolean isZero() {
            return entries.isEmpty();
        }

        @Override
        public synchronized AccumulatorV2<ProgressEvent, List<Entry>> copy() {
            Events c = new Events();
            c.entries.addAll(entries);
            c.seq = seq;
            return c;
        }

        @Override
        public synchronized void reset() {
            entries.clear();
            seq = 0;
        }

        @Override
        public synchronized void add(ProgressEvent e) {
            int last = entries.size() - 1;
            if (e.kind() == ProgressEvent.Kind.STEP
                    && last >= 0
                    && entries.get(last).event().kind() == ProgressEvent.Kind.STEP) {
                entries.remove(last);
            }
            entries.add(new Entry(++seq, e));
            if (entries.size() > MAX_EVENTS) entries.remove(0);
        }

        /** On the driver, at task end: the task's events (only rank 0 has any). */
        @Override
        public synchronized void merge(AccumulatorV2<ProgressEvent, List<Entry>> other) {
            for (Entry e : other.value()) {
                if (e.seq() > seq) {
                    entries.add(e);
                    seq = e.seq();
                }
            }
            while (entries.size() > MAX_EVENTS) entries.remove(0);
        }

        /** A snapshot. */
        @Override
        public synchronized List<Entry> value() {
            return List.copyOf(entries);
        }

        /** Serialized under the lock, as the heartbeat thread may do while the training thread appends. */
        private synchronized void writeObject(ObjectOutputStream out) throws IOException {
            out.defaultWriteObject();
        }
    }

    /**
     * The driver side of one barrier job: registers its {@link Events} and listens for them; {@link #close()} stops
     * listening and shows what the heartbeats had not brought yet.
     */
    static final class Relay extends SparkListener implements AutoCloseable {
        private final SparkContext sc;
        private final Events events = new Events();
        private final Consumer<ProgressEvent> sink;
        private long shown; // guarded by this

        Relay(SparkContext sc, Consumer<ProgressEvent> sink) {
            this.sc = sc;
            this.sink = sink;
            sc.register(events); // unnamed: the Spark UI lists named accumulators
            sc.addSparkListener(this);
        }

        /** The accumulator to ship inside the task. */
        Events events() {
            return events;
        }

        @Override
        public void onExecutorMetricsUpdate(SparkListenerExecutorMetricsUpdate update) {
            var tasks = update.accumUpdates().iterator();
            while (tasks.hasNext()) {
                // (taskId, stageId, stageAttempt, updates): Seq is immutable.Seq in Scala 2.13, collection.Seq in 2.12
                var t = tasks.next();
                var it = t._4().iterator();
                while (it.hasNext()) {
                    AccumulableInfo info = it.next();
                    if (info.id() == events.id()
                            && info.update().isDefined()
                            && info.update().get() instanceof List<?> list) {
                        show(list);
                    }
                }
            }
        }

        private synchronized void show(List<?> entries) {
            for (Object o : entries) {
                if (o instanceof Entry e && e.seq() > shown) {
                    shown = e.seq();
                    sink.accept(e.event());
                }
            }
        }

        @Override
        public void close() {
            sc.removeSparkListener(this);
            show(events.value());
        }
    }
}
