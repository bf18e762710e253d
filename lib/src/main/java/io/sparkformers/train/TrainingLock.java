package io.sparkformers.train;

import java.util.concurrent.locks.ReentrantLock;

/**
 * The JVM-wide lock around forward + backward + optimizer step. DJL allows one active GradientCollector per JVM, and
 * dropout draws from libtorch's one global generator, which a step re-seeds; two trainers in one JVM (Spark local
 * mode, tests) therefore take turns step by step, which gives each the bits it would get alone.
 */
public final class TrainingLock {
    private static final ReentrantLock LOCK = new ReentrantLock(true);

    private TrainingLock() {}

    /** Acquires the lock until the returned handle is closed. */
    public static Held acquire() {
        LOCK.lock();
        return LOCK::unlock;
    }

    /** A held lock; close releases it. */
    public interface Held extends AutoCloseable {
        @Override
        void close();
    }
}
