package io.sparkformers.train;

import java.io.Serializable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One moment of a training run as the progress output shows it (HF's tqdm bar and its logged dicts). Made by
 * {@link ProgressReporter} where the loop runs, drawn by {@link ProgressPrinter} where the user looks: the same JVM,
 * or the Spark driver, which receives rank 0's events from the executors. Times are measured where the loop runs, so
 * an event shown late (a Spark heartbeat later) still reports the speed and ETA of its moment.
 *
 * @param kind             what happened (see {@link Kind})
 * @param step             optimizer steps done (HF {@code state.global_step})
 * @param maxSteps         total optimizer steps (HF {@code state.max_steps})
 * @param epoch            fractional epoch (HF {@code state.epoch}); null before the first step
 * @param loss             the latest logged training loss; null before the first log
 * @param learningRate     the latest logged learning rate; null before the first log
 * @param elapsedSeconds   seconds since this run's loop began (a resumed run counts from its resume)
 * @param stepsPerSecond   steps of this run per second of it (0 before the first step)
 * @param samplesPerSecond training examples per second over all replicas (steps × per-device batch × gradient
 *                         accumulation × world size, as HF's {@code train_samples_per_second})
 * @param metrics          {@link Kind#EVAL}: the {@code eval_} metrics in log order; otherwise empty
 */
public record ProgressEvent(
        Kind kind,
        long step,
        long maxSteps,
        Double epoch,
        Double loss,
        Double learningRate,
        double elapsedSeconds,
        double stepsPerSecond,
        double samplesPerSecond,
        Map<String, Double> metrics)
        implements Serializable {
    private static final long serialVersionUID = 1L;

    /** What an event reports. */
    public enum Kind {
        /** After every optimizer step: redraws the bar on a terminal, nothing elsewhere. */
        STEP,
        /** Every logging_steps (the log that carries "loss"): one line. */
        LOG,
        /** After an evaluation: one line of metrics. */
        EVAL,
        /** Training ended (before the final evaluation, as HF's on_train_end). */
        END
    }

    public ProgressEvent {
        metrics = Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
    }

    /** Seconds left at this event's speed; NaN before the first step or after the last. */
    public double etaSeconds() {
        return stepsPerSecond > 0 && step < maxSteps ? (maxSteps - step) / stepsPerSecond : Double.NaN;
    }
}
