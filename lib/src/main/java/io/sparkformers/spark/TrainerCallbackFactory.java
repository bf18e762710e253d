package io.sparkformers.spark;

import io.sparkformers.train.TrainerCallback;
import java.io.Serializable;

/**
 * Makes each replica's own {@link TrainerCallback} in a distributed fit, as HF's {@code Trainer(callbacks=[…])} does
 * for one process: the factory travels to every training task (so it must be serializable and capture plain values),
 * and each task asks it for the callback of its rank and of the fit's current attempt (the driver retries a failed
 * barrier job from the last checkpoint).
 */
@FunctionalInterface
public interface TrainerCallbackFactory extends Serializable {
    /**
     * @param rank    the replica (0 writes checkpoints and reports)
     * @param attempt 1 for the first barrier job of the fit, 2… for retries
     * @return the callback for this replica, or null for none
     */
    TrainerCallback create(int rank, int attempt);
}
