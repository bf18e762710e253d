package io.sparkformers.train;

import java.io.Console;
import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Draws {@link ProgressEvent}s for people, as HF's {@code ProgressCallback} (tqdm) does: on a terminal a bar redrawn in
 * place with a carriage return after every step, with each log and evaluation written as a line above it; elsewhere
 * (CI, files, a redirected stream) one plain line per log, evaluation and end, since carriage returns garble files.
 * Writes to standard error by default, as tqdm does, so standard output stays machine-readable ({@code --json}).
 * Thread-safe: a Spark listener thread and the driver's main thread may both hand it events.
 */
public final class ProgressPrinter implements Consumer<ProgressEvent> {
    private static final int BAR_WIDTH = 20;

    private final PrintStream out;
    private final boolean terminal;
    private int barLength; // characters of the bar on screen now; 0: none

    public ProgressPrinter(PrintStream out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    /** Standard error, with a bar when a console is attached. */
    public static ProgressPrinter forConsole() {
        return new ProgressPrinter(System.err, consoleAttached());
    }

    /** Whether this JVM runs in an interactive console ({@code System.console()}, on Java 22+ {@code isTerminal()}). */
    public static boolean consoleAttached() {
        Console c = System.console();
        if (c == null) return false;
        try {
            return (Boolean) Console.class.getMethod("isTerminal").invoke(c);
        } catch (ReflectiveOperationException e) {
            return true; // Java < 22: a console is a terminal
        }
    }

    @Override
    public synchronized void accept(ProgressEvent e) {
        switch (e.kind()) {
            case STEP -> {
                if (terminal) drawBar(e);
            }
            case LOG -> {
                if (terminal) {
                    above(line(e));
                    drawBar(e);
                } else {
                    out.println(line(e));
                }
            }
            case EVAL -> above(evalLine(e));
            case END -> {
                if (terminal && barLength > 0) out.println();
                barLength = 0;
                out.println(endLine(e));
            }
        }
        out.flush();
    }

    /** Writes a line, above the bar on a terminal (the bar is redrawn by the next step). */
    private void above(String line) {
        if (terminal && barLength > 0) {
            out.print("\r" + pad(line, barLength) + "\n");
            barLength = 0;
        } else {
            out.println(line);
        }
    }

    private void drawBar(ProgressEvent e) {
        String bar = bar(e);
        out.print("\r" + pad(bar, barLength));
        barLength = bar.length();
    }

    private static String pad(String s, int width) {
        return s.length() >= width ? s : s + " ".repeat(width - s.length());
    }

    /**
     * The plain line of a log: {@code step 20/100 (20%) | epoch 0.40 | loss 0.5000 | lr 4.000e-05 | 64.0 samples/s |
     * elapsed 0:00:10 | ETA 0:00:40}.
     */
    static String line(ProgressEvent e) {
        StringBuilder sb = new StringBuilder();
        sb.append("step ")
                .append(e.step())
                .append('/')
                .append(e.maxSteps())
                .append(String.format(Locale.ROOT, " (%d%%)", percent(e)));
        if (e.epoch() != null) sb.append(String.format(Locale.ROOT, " | epoch %.2f", e.epoch()));
        if (e.loss() != null) sb.append(String.format(Locale.ROOT, " | loss %.4f", e.loss()));
        if (e.learningRate() != null) sb.append(String.format(Locale.ROOT, " | lr %.3e", e.learningRate()));
        sb.append(String.format(Locale.ROOT, " | %.1f samples/s", e.samplesPerSecond()));
        sb.append(" | elapsed ").append(hms(e.elapsedSeconds()));
        if (!Double.isNaN(e.etaSeconds())) sb.append(" | ETA ").append(hms(e.etaSeconds()));
        return sb.toString();
    }

    /**
     * The bar, tqdm's layout in under 100 columns: {@code  20% |####                | 20/100 [0:00:10<0:00:40,
     * 64.0 samples/s, loss 0.5000, lr 4.00e-05]}.
     */
    static String bar(ProgressEvent e) {
        long total = Math.max(e.maxSteps(), 1);
        int filled = (int) Math.min(BAR_WIDTH, e.step() * BAR_WIDTH / total);
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%3d%% |", percent(e)));
        sb.append("#".repeat(filled))
                .append(" ".repeat(BAR_WIDTH - filled))
                .append("| ")
                .append(e.step())
                .append('/')
                .append(e.maxSteps())
                .append(" [")
                .append(hms(e.elapsedSeconds()));
        if (!Double.isNaN(e.etaSeconds())) sb.append('<').append(hms(e.etaSeconds()));
        sb.append(String.format(Locale.ROOT, ", %.1f samples/s", e.samplesPerSecond()));
        if (e.loss() != null) sb.append(String.format(Locale.ROOT, ", loss %.4f", e.loss()));
        if (e.learningRate() != null) sb.append(String.format(Locale.ROOT, ", lr %.2e", e.learningRate()));
        return sb.append(']').toString();
    }

    /**
     * {@code eval @ step 50 | eval_loss 0.2100 | eval_accuracy 0.9400 | …}: the metrics in log order, less the
     * micro/macro/weighted averages and the throughputs, which trainer_state.json keeps.
     */
    static String evalLine(ProgressEvent e) {
        StringBuilder sb = new StringBuilder("eval @ step " + e.step());
        for (Map.Entry<String, Double> m : e.metrics().entrySet()) {
            if (m.getKey().matches(".*_(micro|macro|weighted|per_second)")) continue;
            sb.append(" | ").append(m.getKey()).append(' ').append(String.format(Locale.ROOT, "%.4f", m.getValue()));
        }
        return sb.toString();
    }

    /** {@code training done: 100 steps in 0:00:50 (64.0 samples/s)}. */
    static String endLine(ProgressEvent e) {
        return String.format(
                Locale.ROOT,
                "training done: %d steps in %s (%.1f samples/s)",
                e.step(),
                hms(e.elapsedSeconds()),
                e.samplesPerSecond());
    }

    private static int percent(ProgressEvent e) {
        return (int) Math.min(100, e.step() * 100 / Math.max(e.maxSteps(), 1));
    }

    /** {@code h:mm:ss}. */
    public static String hms(double seconds) {
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
    }
}
