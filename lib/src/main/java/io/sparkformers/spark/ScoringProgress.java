package io.sparkformers.spark;

import io.sparkformers.train.ProgressPrinter;
import java.io.PrintStream;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.function.LongSupplier;
import org.apache.spark.SparkContext;
import org.apache.spark.Success$;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.StageInfo;

/**
 * Progress of a batch-scoring write, shown on the driver: a Spark listener that follows the jobs the calling thread
 * (and threads it starts meanwhile, which inherit Spark's local properties) starts while it is open and, as partitions of each job's final (writing) stage finish, reports
 * {@code label: 3/8 partitions | 1200 rows | 45.1 rows/s | elapsed 0:00:27 | ETA 0:00:45} on standard error — on a
 * terminal as a line redrawn in place, elsewhere as a line for the first partition, then at most one every
 * {@code everySeconds}, and one for the last. Rows are the records the finished tasks wrote (task metrics); the ETA
 * assumes the remaining partitions take as long as the finished ones. Other threads' jobs are not reported.
 */
public final class ScoringProgress extends SparkListener implements AutoCloseable {
    /** The local property that marks the jobs to follow (a random token per scope). */
    static final String PROPERTY = "sparkformers.scoringProgress";

    private final SparkContext sc;
    private final String label;
    private final PrintStream out;
    private final boolean terminal;
    private final long everyNanos;
    private final LongSupplier nanoTime;
    private final String token = UUID.randomUUID().toString();
    private final String previous;
    private final Map<Integer, Job> byStage = new HashMap<>(); // result stage id -> job; guarded by this
    private int barLength; // guarded by this
    private int started; // followed jobs started; guarded by this
    private int ended; // and ended; guarded by this

    private static final class Job {
        final int jobId;
        final int total;
        final long startNanos;
        final BitSet done = new BitSet();
        long rows;
        long lastLineNanos;

        Job(int jobId, int total, long startNanos) {
            this.jobId = jobId;
            this.total = total;
            this.startNanos = startNanos;
        }
    }

    ScoringProgress(
            SparkContext sc,
            String label,
            PrintStream out,
            boolean terminal,
            double everySeconds,
            LongSupplier nanoTime) {
        this.sc = sc;
        this.label = label;
        this.out = out;
        this.terminal = terminal;
        this.everyNanos = (long) (everySeconds * 1e9);
        this.nanoTime = nanoTime;
        this.previous = sc.getLocalProperty(PROPERTY);
        sc.setLocalProperty(PROPERTY, token);
        sc.addSparkListener(this);
    }

    /** Follows this thread's jobs until closed: standard error, a bar on a terminal, else a line every 10 s. */
    public static ScoringProgress start(SparkContext sc, String label) {
        return new ScoringProgress(sc, label, System.err, ProgressPrinter.consoleAttached(), 10, System::nanoTime);
    }

    @Override
    public synchronized void onJobStart(SparkListenerJobStart start) {
        if (start.properties() == null || !token.equals(start.properties().getProperty(PROPERTY))) return;
        StageInfo result = null; // the job's result stage: the highest stage id
        var it = start.stageInfos().iterator();
        while (it.hasNext()) {
            StageInfo s = it.next();
            if (result == null || s.stageId() > result.stageId()) result = s;
        }
        if (result != null) {
            byStage.put(result.stageId(), new Job(start.jobId(), result.numTasks(), nanoTime.getAsLong()));
            started++;
        }
    }

    @Override
    public synchronized void onTaskEnd(SparkListenerTaskEnd end) {
        Job job = byStage.get(end.stageId());
        if (job == null || end.reason() != Success$.MODULE$ || end.taskInfo() == null) return;
        int partition = end.taskInfo().index();
        if (job.done.get(partition)) return; // a speculative or retried copy
        job.done.set(partition);
        if (end.taskMetrics() != null)
            job.rows += end.taskMetrics().outputMetrics().recordsWritten();
        long now = nanoTime.getAsLong();
        int done = job.done.cardinality();
        if (terminal) {
            String line = line(job, now);
            out.print("\r" + line + " ".repeat(Math.max(0, barLength - line.length())));
            barLength = line.length();
            if (done == job.total) {
                out.println();
                barLength = 0;
            }
        } else if (done == 1 || done == job.total || now - job.lastLineNanos >= everyNanos) {
            out.println(line(job, now));
            job.lastLineNanos = now;
        }
        out.flush();
    }

    @Override
    public synchronized void onJobEnd(SparkListenerJobEnd end) {
        if (!byStage.values().removeIf(j -> j.jobId == end.jobId())) return;
        ended++;
        notifyAll();
        if (terminal && barLength > 0) {
            out.println();
            out.flush();
            barLength = 0;
        }
    }

    /** {@code label: 3/8 partitions | 1200 rows | 45.1 rows/s | elapsed 0:00:27 | ETA 0:00:45}. */
    private String line(Job job, long now) {
        int done = job.done.cardinality();
        double secs = (now - job.startNanos) / 1e9;
        StringBuilder sb = new StringBuilder(
                String.format(Locale.ROOT, "%s: %d/%d partitions | %d rows", label, done, job.total, job.rows));
        if (secs > 0) sb.append(String.format(Locale.ROOT, " | %.1f rows/s", job.rows / secs));
        sb.append(" | elapsed ").append(ProgressPrinter.hms(secs));
        if (done < job.total) sb.append(" | ETA ").append(ProgressPrinter.hms(secs / done * (job.total - done)));
        return sb.toString();
    }

    /**
     * After the work returned: waits (at most {@code timeoutMillis}) until the listener has seen the end of every job
     * it follows, so the last line is out before the caller prints its summary. Spark posts a job's task and job ends
     * to listeners before the job's caller returns, but delivers them on another thread.
     */
    public synchronized void awaitReported(long timeoutMillis) {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        long left;
        try {
            while ((started == 0 || ended < started) && (left = deadline - System.currentTimeMillis()) > 0) wait(left);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops following; the calling thread's later jobs are not reported. */
    @Override
    public void close() {
        sc.removeSparkListener(this);
        sc.setLocalProperty(PROPERTY, previous);
    }
}
