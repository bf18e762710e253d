package io.sparkformers.train;

/**
 * A learning-rate schedule as a multiplier of the base learning rate, with torch {@code LambdaLR} semantics:
 * the learning rate used by optimizer step {@code k} (0-based) is {@code baseLr * multiplier(k)}.
 */
@FunctionalInterface
public interface LrSchedule {

    /** The factor applied to every parameter group's base learning rate at optimizer step {@code step} (0-based). */
    double multiplier(long step);

    /** {@code baseLr * multiplier(step)}. */
    default double lr(double baseLr, long step) {
        return baseLr * multiplier(step);
    }
}
