package io.sparkformers.train;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Training progress for people, as HF's {@code ProgressCallback} (a tqdm bar) and {@code PrinterCallback}: on a
 * terminal, one line redrawn with a carriage return (step/total, bar, loss, lr, it/s, ETA); elsewhere (logs, CI,
 * Spark executors) one plain line per log event, since carriage returns garble files. Speed counts only the steps of
 * this run, so a resumed run does not report the checkpoint's steps as instant.
 */
public final class ProgressReporter implements TrainerCallback {
    private static final int BAR_WIDTH = 24;

    private final PrintStream out;
    private final boolean terminal;
    private final LongSupplier nanoTime;
    private long startNanos;
    private long startStep;
    private Double lastLoss;
    private Double lastLr;
    private boolean barShown;

    public ProgressReporter(PrintStream out, boolean terminal, LongSupplier nanoTime) {
        this.out = out;
        this.terminal = terminal;
        this.nanoTime = nanoTime;
    }

    /** Standard output, with a bar when a console is attached ({@code System.console() != null}). */
    public static ProgressReporter forConsole() {
        return new ProgressReporter(System.out, System.console() != null, System::nanoTime);
    }

    @Override
    public void onTrainBegin(TrainingArguments args, TrainerState state, TrainerControl control) {
        startNanos = nanoTime.getAsLong();
        startStep = state.globalStep;
    }

    @Override
    public void onStepEnd(TrainingArguments args, TrainerState state, TrainerControl control) {
        if (!state.isWorldProcessZero || !terminal) return;
        out.print("\r" + line(state));
        out.flush();
        barShown = true;
    }

    @Override
    public void onLog(TrainingArguments args, TrainerState state, TrainerControl control, Map<String, Object> logs) {
        if (!state.isWorldProcessZero) return;
        if (logs.get("loss") instanceof Number n) lastLoss = n.doubleValue();
        if (logs.get("learning_rate") instanceof Number n) lastLr = n.doubleValue();
        boolean eval = logs.keySet().stream().anyMatch(k -> k.startsWith("eval_"));
        if (terminal) {
            if (eval) {
                out.print((barShown ? "\n" : "") + evalLine(state, logs) + "\n");
                barShown = false;
            }
        } else {
            out.println(eval ? evalLine(state, logs) : line(state));
        }
        out.flush();
    }

    @Override
    public void onTrainEnd(TrainingArguments args, TrainerState state, TrainerControl control) {
        if (!state.isWorldProcessZero) return;
        if (terminal && barShown) out.println();
        double secs = (nanoTime.getAsLong() - startNanos) / 1e9;
        out.println(String.format(Locale.ROOT, "training done: %d steps in %s", state.globalStep, hms(secs)));
        out.flush();
    }

    /** The progress line at {@code state}: bar on a terminal, plain otherwise. */
    String line(TrainerState state) {
        long step = state.globalStep;
        long total = Math.max(state.maxSteps, 1);
        double secs = (nanoTime.getAsLong() - startNanos) / 1e9;
        long done = step - startStep;
        double rate = secs > 0 ? done / secs : 0;
        StringBuilder sb = new StringBuilder();
        int pct = (int) Math.min(100, step * 100 / total);
        if (terminal) {
            int filled = (int) Math.min(BAR_WIDTH, step * BAR_WIDTH / total);
            sb.append(String.format(Locale.ROOT, "%3d%% |", pct)).append("#".repeat(filled))
                    .append(" ".repeat(BAR_WIDTH - filled)).append("| ");
            sb.append(step).append('/').append(state.maxSteps);
        } else {
            sb.append("step ").append(step).append('/').append(state.maxSteps)
                    .append(String.format(Locale.ROOT, " (%d%%)", pct));
        }
        if (state.epoch != null) sb.append(String.format(Locale.ROOT, " | epoch %.2f", state.epoch));
        if (lastLoss != null) sb.append(String.format(Locale.ROOT, " | loss %.4f", lastLoss));
        if (lastLr != null) sb.append(String.format(Locale.ROOT, " | lr %.3e", lastLr));
        sb.append(String.format(Locale.ROOT, " | %.2f it/s", rate));
        if (rate > 0 && step < state.maxSteps) sb.append(" | ETA ").append(hms((state.maxSteps - step) / rate));
        return sb.toString();
    }

    private static String evalLine(TrainerState state, Map<String, Object> logs) {
        StringBuilder sb = new StringBuilder("eval @ step " + state.globalStep);
        logs.forEach((k, v) -> {
            if (!k.equals("epoch")) {
                sb.append(" | ").append(k).append(' ')
                        .append(v instanceof Double d ? String.format(Locale.ROOT, "%.4f", d) : String.valueOf(v));
            }
        });
        return sb.toString();
    }

    static String hms(double seconds) {
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
    }
}
