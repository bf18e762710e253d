package io.sparkformers.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ProgressReporter, JsonlReporter and TrainingCurves. */
class ReportingTest {
    private static final TrainingArguments ARGS =
            TrainingArguments.builder("out").build();

    private static TrainerState state(long step, long max) {
        TrainerState s = new TrainerState();
        s.globalStep = step;
        s.maxSteps = max;
        s.epoch = step / 50.0;
        return s;
    }

    /** Per-device batch 8, 2 replicas: 16 samples per step. */
    private static final TrainingArguments BATCH_8 =
            TrainingArguments.builder("out").perDeviceTrainBatchSize(8).build();

    private static PrintStream stream(ByteArrayOutputStream buf) {
        return new PrintStream(buf, true, StandardCharsets.UTF_8);
    }

    @Test
    void plainOutputPrintsOneLinePerLogWithSamplesPerSecondElapsedAndEta() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        AtomicLong clock = new AtomicLong();
        ProgressReporter p = new ProgressReporter(new ProgressPrinter(stream(buf), false), 2, clock::get);
        TrainerControl c = new TrainerControl();
        p.onTrainBegin(BATCH_8, state(0, 100), c);
        clock.set(10_000_000_000L); // 20 steps in 10 s: 2 it/s = 32 samples/s, 80 left: 40 s
        TrainerState s = state(20, 100);
        p.onStepEnd(BATCH_8, s, c);
        p.onLog(BATCH_8, s, c, Map.of("loss", 0.5, "learning_rate", 4e-5));
        clock.set(50_000_000_000L);
        TrainerState end = state(100, 100);
        p.onLog(BATCH_8, end, c, Map.of("train_runtime", 50.0, "train_loss", 0.3)); // the summary: no line
        p.onTrainEnd(BATCH_8, end, c);
        Map<String, Object> eval = new java.util.LinkedHashMap<>();
        eval.put("eval_loss", 0.25);
        eval.put("eval_f1", 0.5);
        eval.put("eval_f1_macro", 0.4); // averages and throughputs stay in trainer_state.json
        eval.put("eval_samples_per_second", 80.0);
        eval.put("eval_runtime", 1.25);
        eval.put("epoch", 2.0);
        p.onLog(BATCH_8, end, c, eval);
        String text = buf.toString(StandardCharsets.UTF_8);
        assertFalse(text.contains("\r"));
        assertEquals("""
                step 20/100 (20%) | epoch 0.40 | loss 0.5000 | lr 4.000e-05 | 32.0 samples/s | elapsed 0:00:10 \
                | ETA 0:00:40
                training done: 100 steps in 0:00:50 (32.0 samples/s)
                eval @ step 100 | eval_loss 0.2500 | eval_f1 0.5000 | eval_runtime 1.2500
                """, text);
    }

    @Test
    void terminalOutputRedrawsABarWithCarriageReturnsAndWritesLogsAboveIt() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        AtomicLong clock = new AtomicLong();
        ProgressReporter p = new ProgressReporter(new ProgressPrinter(stream(buf), true), 1, clock::get);
        TrainerControl c = new TrainerControl();
        p.onTrainBegin(BATCH_8, state(0, 4), c);
        for (long i = 1; i <= 4; i++) {
            clock.set(i * 500_000_000L);
            p.onStepEnd(BATCH_8, state(i, 4), c);
            if (i == 2) p.onLog(BATCH_8, state(i, 4), c, Map.of("loss", 0.7, "learning_rate", 1e-4));
        }
        p.onTrainEnd(BATCH_8, state(4, 4), c);
        String text = buf.toString(StandardCharsets.UTF_8);
        assertEquals(6, text.chars().filter(ch -> ch == '\r').count(), text); // 4 steps, the log line, its redraw
        assertTrue(text.contains("\r 50% |##########          | 2/4 [0:00:01<0:00:01, 16.0 samples/s]"), text);
        assertTrue(text.contains("\rstep 2/4 (50%) | epoch 0.04 | loss 0.7000 | lr 1.000e-04 | 16.0 samples/s"), text);
        assertTrue(
                text.contains(
                        "\r100% |####################| 4/4 [0:00:02, 16.0 samples/s, loss 0.7000, " + "lr 1.00e-04]"),
                text);
        assertTrue(
                text.matches("(?s).*lr 1\\.00e-04] *\ntraining done: 4 steps in 0:00:02 \\(16\\.0 samples/s\\)\n"),
                text); // the bar is padded over the longer one before it
    }

    @Test
    void onlyTheMainProcessReports() {
        List<ProgressEvent> events = new ArrayList<>();
        ProgressReporter p = new ProgressReporter(events::add, 2, () -> 0L);
        TrainerState s = state(1, 4);
        s.isWorldProcessZero = false;
        TrainerControl c = new TrainerControl();
        p.onTrainBegin(ARGS, s, c);
        p.onStepEnd(ARGS, s, c);
        p.onLog(ARGS, s, c, Map.of("loss", 0.5));
        p.onTrainEnd(ARGS, s, c);
        assertTrue(events.isEmpty(), events.toString());
    }

    @Test
    void jsonlReporterWritesOneObjectPerLogWithStep(@TempDir Path dir) throws Exception {
        JsonlReporter r = new JsonlReporter(dir);
        TrainerState s = state(0, 10);
        TrainerControl c = new TrainerControl();
        r.onTrainBegin(ARGS, s, c);
        s.globalStep = 5;
        r.onLog(ARGS, s, c, s.log(Map.of("loss", 0.7)));
        s.globalStep = 10;
        r.onLog(ARGS, s, c, s.log(Map.of("eval_loss", 0.6, "eval_accuracy", 0.8)));
        List<Map<String, Object>> lines = JsonlReporter.read(r.file());
        assertEquals(2, lines.size());
        assertEquals(s.logHistory.get(0).get("loss"), lines.get(0).get("loss"));
        assertEquals(5, lines.get(0).get("step"));
        assertEquals(0.8, lines.get(1).get("eval_accuracy"));
        r.onTrainBegin(ARGS, state(0, 10), c); // a fresh run starts a new file
        assertFalse(r.file().toFile().exists());
    }

    @Test
    void curvesPngDecodesWithTheRequestedSizeAndDrawsSomething(@TempDir Path dir) throws Exception {
        List<Map<String, Object>> history = new ArrayList<>();
        for (int step = 10; step <= 200; step += 10) {
            history.add(Map.of("loss", 1.0 / Math.sqrt(step), "learning_rate", 5e-5, "step", step));
            if (step % 50 == 0) {
                history.add(Map.of("eval_loss", 1.2 / Math.sqrt(step), "eval_accuracy", 1 - 1.0 / step, "step", step));
            }
        }
        Path png = dir.resolve("curves.png");
        TrainingCurves.write(png, history, "accuracy", 640, 480);
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img);
        assertEquals(640, img.getWidth());
        assertEquals(480, img.getHeight());
        int colored = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int rgb = img.getRGB(x, y) & 0xffffff;
                int r = rgb >> 16, g = (rgb >> 8) & 0xff, b = rgb & 0xff;
                if (Math.max(r, Math.max(g, b)) - Math.min(r, Math.min(g, b)) > 60) colored++;
            }
        }
        assertTrue(colored > 500, "series pixels: " + colored);
    }

    @Test
    void niceTicksAreRoundNumbersCoveringTheRange() {
        assertArrayEquals(
                new double[] {0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0},
                TrainingCurves.niceTicks(0.03, 0.97, 5),
                1e-12);
        double[] t = TrainingCurves.niceTicks(10, 200, 8);
        assertEquals(0, t[0]);
        assertEquals(200, t[t.length - 1]);
        assertEquals(20, t[1] - t[0], 1e-9); // 190 / 8 = 23.75 rounds to the 1-2-5 step 20
    }
}
