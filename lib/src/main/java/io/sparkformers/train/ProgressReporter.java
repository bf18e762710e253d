package io.sparkformers.train;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Training progress, as HF's {@code ProgressCallback}: on the main process only, turns the loop's events into
 * {@link ProgressEvent}s — one per step, one per log that carries the training loss (every logging_steps), one per
 * evaluation, one at the end — and hands them to a sink: a {@link ProgressPrinter} in this JVM, or (distributed
 * training) the relay that carries rank 0's events to the Spark driver. Speed counts only the steps of this run, so a
 * resumed run does not report the checkpoint's steps as instant.
 */
public final class ProgressReporter implements TrainerCallback {
    private final Consumer<ProgressEvent> sink;
    private final int worldSize;
    private final LongSupplier nanoTime;
    private long startNanos;
    private long startStep;
    private long samplesPerStep;
    private Double lastLoss;
    private Double lastLr;

    /**
     * @param sink      receives the events, on the training thread
     * @param worldSize replicas training together (samples per step = per-device batch × accumulation × worldSize)
     * @param nanoTime  the clock ({@code System::nanoTime}; tests pass their own)
     */
    public ProgressReporter(Consumer<ProgressEvent> sink, int worldSize, LongSupplier nanoTime) {
        if (worldSize < 1) throw new IllegalArgumentException("worldSize must be >= 1 but was " + worldSize);
        this.sink = sink;
        this.worldSize = worldSize;
        this.nanoTime = nanoTime;
    }

    /** Printed to standard error, with a bar when a console is attached ({@link ProgressPrinter#forConsole()}). */
    public static ProgressReporter forConsole(int worldSize) {
        return new ProgressReporter(ProgressPrinter.forConsole(), worldSize, System::nanoTime);
    }

    @Override
    public void onTrainBegin(TrainingArguments args, TrainerState state, TrainerControl control) {
        startNanos = nanoTime.getAsLong();
        startStep = state.globalStep;
        samplesPerStep = (long) args.perDeviceTrainBatchSize() * args.gradientAccumulationSteps() * worldSize;
    }

    @Override
    public void onStepEnd(TrainingArguments args, TrainerState state, TrainerControl control) {
        if (state.isWorldProcessZero) sink.accept(event(ProgressEvent.Kind.STEP, state, Map.of()));
    }

    @Override
    public void onLog(TrainingArguments args, TrainerState state, TrainerControl control, Map<String, Object> logs) {
        if (!state.isWorldProcessZero) return;
        if (logs.keySet().stream().anyMatch(k -> k.startsWith("eval_"))) {
            Map<String, Double> metrics = new LinkedHashMap<>();
            logs.forEach((k, v) -> {
                if (k.startsWith("eval_") && v instanceof Number n) metrics.put(k, n.doubleValue());
            });
            sink.accept(event(ProgressEvent.Kind.EVAL, state, metrics));
        } else if (logs.get("loss") instanceof Number loss) { // not the end-of-training summary
            lastLoss = loss.doubleValue();
            if (logs.get("learning_rate") instanceof Number lr) lastLr = lr.doubleValue();
            sink.accept(event(ProgressEvent.Kind.LOG, state, Map.of()));
        }
    }

    @Override
    public void onTrainEnd(TrainingArguments args, TrainerState state, TrainerControl control) {
        if (state.isWorldProcessZero) sink.accept(event(ProgressEvent.Kind.END, state, Map.of()));
    }

    private ProgressEvent event(ProgressEvent.Kind kind, TrainerState state, Map<String, Double> metrics) {
        double secs = (nanoTime.getAsLong() - startNanos) / 1e9;
        long done = state.globalStep - startStep;
        double stepsPerSecond = secs > 0 ? done / secs : 0;
        return new ProgressEvent(
                kind,
                state.globalStep,
                state.maxSteps,
                state.epoch,
                lastLoss,
                lastLr,
                secs,
                stepsPerSecond,
                stepsPerSecond * samplesPerStep,
                metrics);
    }
}
