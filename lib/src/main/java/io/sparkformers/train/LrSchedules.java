package io.sparkformers.train;

import java.util.List;

/**
 * The learning-rate schedules of HF transformers' {@code get_scheduler} ({@code transformers/optimization.py}),
 * formula for formula: {@code linear}, {@code cosine}, {@code cosine_with_restarts}, {@code polynomial},
 * {@code constant}, {@code constant_with_warmup}. Cosines use {@link StrictMath} so every executor computes the same
 * bits.
 */
public final class LrSchedules {

    /** Names accepted by {@link #get}, as HF's {@code SchedulerType} values. */
    public static final List<String> NAMES =
            List.of("linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup");

    private LrSchedules() {}

    /**
     * HF {@code get_scheduler(name, optimizer, num_warmup_steps, num_training_steps)} with HF's default arguments
     * (cosine: 0.5 cycles; restarts: 1 cycle; polynomial: lr_end 1e-7, power 1.0). {@code baseLr} is the
     * optimizer's initial learning rate, which only the polynomial schedule needs.
     */
    public static LrSchedule get(String name, long numWarmupSteps, long numTrainingSteps, double baseLr) {
        return switch (name) {
            case "linear" -> linear(numWarmupSteps, numTrainingSteps);
            case "cosine" -> cosine(numWarmupSteps, numTrainingSteps, 0.5);
            case "cosine_with_restarts" -> cosineWithHardRestarts(numWarmupSteps, numTrainingSteps, 1);
            case "polynomial" -> polynomial(numWarmupSteps, numTrainingSteps, 1e-7, 1.0, baseLr);
            case "constant" -> constant();
            case "constant_with_warmup" -> constantWithWarmup(numWarmupSteps);
            default ->
                throw new IllegalArgumentException(
                        "unsupported lr_scheduler_type '" + name + "' (supported: " + NAMES + ")");
        };
    }

    /** HF {@code get_constant_schedule}: always 1. */
    public static LrSchedule constant() {
        return step -> 1.0;
    }

    /** HF {@code get_constant_schedule_with_warmup}: linear warm-up from 0 to 1, then 1. */
    public static LrSchedule constantWithWarmup(long numWarmupSteps) {
        requireNonNegative(numWarmupSteps, "numWarmupSteps");
        return step -> step < numWarmupSteps ? warmup(step, numWarmupSteps) : 1.0;
    }

    /** HF {@code get_linear_schedule_with_warmup}: warm-up, then linear decay to 0 at numTrainingSteps. */
    public static LrSchedule linear(long numWarmupSteps, long numTrainingSteps) {
        requireNonNegative(numWarmupSteps, "numWarmupSteps");
        requireNonNegative(numTrainingSteps, "numTrainingSteps");
        return step -> {
            if (step < numWarmupSteps) return warmup(step, numWarmupSteps);
            return Math.max(
                    0.0, (double) (numTrainingSteps - step) / (double) Math.max(1, numTrainingSteps - numWarmupSteps));
        };
    }

    /**
     * HF {@code get_cosine_schedule_with_warmup}: warm-up, then {@code 0.5 (1 + cos(π · numCycles · 2 · progress))}
     * (HF default numCycles 0.5: a half cosine from 1 to 0).
     */
    public static LrSchedule cosine(long numWarmupSteps, long numTrainingSteps, double numCycles) {
        requireNonNegative(numWarmupSteps, "numWarmupSteps");
        requireNonNegative(numTrainingSteps, "numTrainingSteps");
        return step -> {
            if (step < numWarmupSteps) return warmup(step, numWarmupSteps);
            double progress = progress(step, numWarmupSteps, numTrainingSteps);
            return Math.max(0.0, 0.5 * (1.0 + StrictMath.cos(Math.PI * numCycles * 2.0 * progress)));
        };
    }

    /**
     * HF {@code get_cosine_with_hard_restarts_schedule_with_warmup}: warm-up, then numCycles cosine decays from 1 to
     * 0, each restarting at 1; 0 from numTrainingSteps on.
     */
    public static LrSchedule cosineWithHardRestarts(long numWarmupSteps, long numTrainingSteps, int numCycles) {
        requireNonNegative(numWarmupSteps, "numWarmupSteps");
        requireNonNegative(numTrainingSteps, "numTrainingSteps");
        return step -> {
            if (step < numWarmupSteps) return warmup(step, numWarmupSteps);
            double progress = progress(step, numWarmupSteps, numTrainingSteps);
            if (progress >= 1.0) return 0.0;
            return Math.max(0.0, 0.5 * (1.0 + StrictMath.cos(Math.PI * (((double) numCycles * progress) % 1.0))));
        };
    }

    /**
     * HF {@code get_polynomial_decay_schedule_with_warmup}: warm-up, then the lr decays polynomially from
     * {@code lrInit} to {@code lrEnd} at numTrainingSteps and stays there. The multiplier is the decayed lr divided by
     * {@code lrInit}, because LambdaLR multiplies by it again.
     *
     * @param lrInit the optimizer's initial learning rate; must exceed lrEnd (HF raises the same error)
     */
    public static LrSchedule polynomial(
            long numWarmupSteps, long numTrainingSteps, double lrEnd, double power, double lrInit) {
        requireNonNegative(numWarmupSteps, "numWarmupSteps");
        requireNonNegative(numTrainingSteps, "numTrainingSteps");
        if (!(lrInit > lrEnd)) {
            throw new IllegalArgumentException(
                    "lr_end (" + lrEnd + ") must be smaller than initial lr (" + lrInit + ")");
        }
        if (numTrainingSteps == numWarmupSteps) {
            // HF divides by (numTrainingSteps - numWarmupSteps) at that step and fails there; fail up front instead
            throw new IllegalArgumentException(
                    "polynomial schedule needs numTrainingSteps != numWarmupSteps (both " + numWarmupSteps + ")");
        }
        return step -> {
            if (step < numWarmupSteps) return warmup(step, numWarmupSteps);
            if (step > numTrainingSteps) return lrEnd / lrInit;
            double lrRange = lrInit - lrEnd;
            long decaySteps = numTrainingSteps - numWarmupSteps;
            double pctRemaining = 1 - (double) (step - numWarmupSteps) / (double) decaySteps;
            double decay = lrRange * StrictMath.pow(pctRemaining, power) + lrEnd;
            return decay / lrInit;
        };
    }

    private static double warmup(long step, long numWarmupSteps) {
        return (double) step / (double) Math.max(1, numWarmupSteps);
    }

    private static double progress(long step, long numWarmupSteps, long numTrainingSteps) {
        return (double) (step - numWarmupSteps) / (double) Math.max(1, numTrainingSteps - numWarmupSteps);
    }

    private static void requireNonNegative(long v, String name) {
        if (v < 0) throw new IllegalArgumentException(name + " must be >= 0 but was " + v);
    }
}
