package io.sparkformers.spark;

import static org.junit.jupiter.api.Assertions.*;

import io.sparkformers.train.ProgressEvent;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rank 0's training progress reaches the driver through Spark: the {@link TrainingProgress.Events} accumulator of a
 * running task arrives in executor heartbeats (here every 100 ms), and a real 2-worker fit in local mode prints rank 0's
 * lines, each once, on the driver's standard error.
 */
class TrainingProgressTest {
    static SparkSession spark;
    static Path tiny;

    @TempDir
    static Path shared;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() throws Exception {
        spark = TrainingFixtures.trainingSessionBuilder("TrainingProgressTest")
                .config("spark.executor.heartbeatInterval", "100ms")
                .getOrCreate();
        tiny = TrainingFixtures.tinyBertWithoutDropout(shared.resolve("tiny"));
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
    }

    private static ProgressEvent event(ProgressEvent.Kind kind, long step) {
        return new ProgressEvent(kind, step, 4, step / 4.0, 0.5, 1e-4, step, 1, 8, Map.of());
    }

    /** Records, from the heartbeats the driver receives, every progress entry of a running task. */
    static final class HeartbeatEntries extends SparkListener {
        final List<TrainingProgress.Entry> entries = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void onExecutorMetricsUpdate(SparkListenerExecutorMetricsUpdate update) {
            var tasks = update.accumUpdates().iterator();
            while (tasks.hasNext()) {
                var infos = tasks.next()._4().iterator();
                while (infos.hasNext()) {
                    AccumulableInfo info = infos.next();
                    if (info.update().isDefined() && info.update().get() instanceof List<?> l) {
                        for (Object o : l) if (o instanceof TrainingProgress.Entry e) entries.add(e);
                    }
                }
            }
        }
    }

    @Test
    void heartbeatsBringARunningTasksEventsToTheDriverAndTheRestArriveAtTheEnd() {
        List<String> shown = Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean running = new AtomicBoolean(true);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        try (TrainingProgress.Relay relay = new TrainingProgress.Relay(
                spark.sparkContext(),
                e -> shown.add(e.kind() + " " + e.step() + (running.get() ? " while running" : " at the end")))) {
            TrainingProgress.Events events = relay.events();
            jsc.parallelize(List.of(1), 1)
                    .map(x -> {
                        events.add(event(ProgressEvent.Kind.STEP, 1));
                        events.add(event(ProgressEvent.Kind.STEP, 2)); // replaces step 1
                        events.add(event(ProgressEvent.Kind.LOG, 2));
                        Thread.sleep(2000); // ~20 heartbeats
                        events.add(event(ProgressEvent.Kind.STEP, 4));
                        events.add(event(ProgressEvent.Kind.END, 4));
                        return x;
                    })
                    .collect();
            running.set(false);
        }
        assertTrue(shown.size() >= 3, shown.toString());
        assertTrue(shown.contains("LOG 2 while running"), "a heartbeat brought the log line: " + shown);
        List<String> order = shown.stream()
                .map(s -> s.substring(0, s.indexOf(' ', s.indexOf(' ') + 1)))
                .toList();
        assertEquals("END 4", order.get(order.size() - 1), shown.toString());
        assertEquals(
                List.of("LOG 2", "END 4"),
                order.stream().filter(s -> !s.startsWith("STEP")).toList(),
                "each log and the end shown once, in order: " + shown);
    }

    @Test
    void aTwoWorkerFitPrintsRankZerosProgressOnTheDriverOncePerLog() throws Exception {
        Dataset<Row> df = TrainingFixtures.sentiment(spark, 40, 8, 3);
        TextClassifier est = new TextClassifier()
                .setModel(tiny.toString())
                .setOutputDir(tmp.resolve("fit").toString())
                .setNumWorkers(2)
                .setPerDeviceTrainBatchSize(4)
                .setMaxSteps(6)
                .setLearningRate(1e-3)
                .setMaxLength(32)
                .setSaveStrategy("no")
                .setLoggingSteps(2)
                .setValidationIndicatorCol("isEval");
        HeartbeatEntries heartbeats = new HeartbeatEntries();
        spark.sparkContext().addSparkListener(heartbeats);
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream err = System.err;
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            est.fit(df);
        } finally {
            System.setErr(err);
            spark.sparkContext().removeSparkListener(heartbeats);
        }
        String text = buf.toString(StandardCharsets.UTF_8);
        System.out.println("driver stderr during the fit:\n" + text);
        List<String> lines = text.lines()
                .filter(l -> l.startsWith("step ") || l.startsWith("training done") || l.startsWith("eval @"))
                .toList();
        assertEquals(5, lines.size(), "3 logs, the end, the final evaluation: " + text);
        Pattern log = Pattern.compile("step (\\d)/6 \\(\\d+%\\) \\| epoch [0-9.]+ \\| loss [0-9.]+ \\| lr [0-9.e+-]+ "
                + "\\| ([0-9.]+) samples/s \\| elapsed \\d:\\d\\d:\\d\\d( \\| ETA \\d:\\d\\d:\\d\\d)?");
        for (int i = 0; i < 3; i++) {
            Matcher m = log.matcher(lines.get(i));
            assertTrue(m.matches(), lines.get(i));
            assertEquals(2 * (i + 1), Integer.parseInt(m.group(1)));
            assertTrue(Double.parseDouble(m.group(2)) > 0, lines.get(i));
            assertEquals(i < 2, m.group(3) != null, "an ETA until the last step: " + lines.get(i));
        }
        assertTrue(
                lines.get(3).matches("training done: 6 steps in \\d:\\d\\d:\\d\\d \\([0-9.]+ samples/s\\)"),
                lines.get(3));
        assertTrue(lines.get(4).startsWith("eval @ step 6 | eval_loss "), lines.get(4));
        assertTrue(lines.get(4).contains("| eval_accuracy "), lines.get(4));
        System.out.println("entries in heartbeats during the fit: " + heartbeats.entries.size());
    }
}
