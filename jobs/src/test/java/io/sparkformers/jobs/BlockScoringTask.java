package io.sparkformers.jobs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.TaskContext;
import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.PluginContext;
import org.apache.spark.api.plugin.SparkPlugin;

/**
 * Fault injection for the predict fault tests, loaded with {@code --conf spark.plugins=…}: a task-level hook the test
 * controls instead of a sleep that races. In each JVM that runs tasks, the {@value #BLOCKED_TASK}nd task of predict's
 * write job (the tasks carrying ScoringProgress's local property) claims {@code victim.claim} in the folder
 * {@value #DIR} names — the first JVM there wins — writes its process id to {@code victim.pid} and blocks until the
 * test kills that process. Every such task start is recorded as {@code task-<partition>-attempt-<n>}, so the test
 * sees the retry.
 */
public final class BlockScoringTask implements SparkPlugin {
    /** The folder shared with the test (one file system: a cluster on loopback, or local mode). */
    public static final String DIR = "spark.sparkformers.test.faultDir";

    static final int BLOCKED_TASK = 2;
    /** ScoringProgress.PROPERTY: set on the jobs predict's progress follows, i.e. its write. */
    static final String SCORING_JOB = "sparkformers.scoringProgress";

    @Override
    public DriverPlugin driverPlugin() {
        return null;
    }

    @Override
    public ExecutorPlugin executorPlugin() {
        return new ExecutorPlugin() {
            private final AtomicInteger started = new AtomicInteger();
            private Path dir;

            @Override
            public void init(PluginContext ctx, Map<String, String> extraConf) {
                dir = Path.of(ctx.conf().get(DIR));
            }

            @Override
            public void onTaskStart() {
                TaskContext task = TaskContext.get();
                if (task == null || task.getLocalProperty(SCORING_JOB) == null) return;
                try {
                    Files.createFile(dir.resolve("task-" + task.partitionId() + "-attempt-" + task.attemptNumber()));
                    if (started.incrementAndGet() != BLOCKED_TASK) return;
                    try {
                        Files.createFile(dir.resolve("victim.claim"));
                    } catch (FileAlreadyExistsException another) {
                        return;
                    }
                    Path tmp = dir.resolve("victim.pid.tmp");
                    Files.writeString(tmp, Long.toString(ProcessHandle.current().pid()));
                    Files.move(tmp, dir.resolve("victim.pid"), StandardCopyOption.ATOMIC_MOVE);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                System.err.println("test fault: partition " + task.partitionId() + " waits for kill -9 of JVM "
                        + ProcessHandle.current().pid());
                try {
                    new CountDownLatch(1).await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
    }
}
