package io.sparkformers.train;

import ai.djl.ndarray.NDArray;
import java.io.IOException;
import java.util.BitSet;
import java.util.List;

/**
 * How one replica of a data-parallel {@link Trainer} run talks to the others (PyTorch DDP's process group, seen from
 * the training loop). The Trainer calls these in the same order on every rank: {@link #broadcastFromMain} once after
 * the model is built, {@link #sum} and {@link #allReduceSum} (or, when {@link #shardsUpdates}, {@link
 * #reduceScatterUpdate}, and {@link #allGatherShares} before a checkpoint) once per optimizer step, {@link #requireSame}
 * every {@code checkConsistencyEverySteps} steps, {@link #allGather} once per evaluation. Every call blocks until all
 * ranks made it, and runs outside {@link TrainingLock} (two replicas in one JVM would otherwise deadlock: rank 0
 * holding the lock while waiting for rank 1, which waits for the lock).
 *
 * <p>{@link #SINGLE} is one process: every operation is the identity. The implementation over TCP lives in package
 * {@code distributed}, which this package does not import.
 */
public interface DataParallel {

    /** This replica's index in [0, worldSize). Rank 0 is the main process: it alone writes output_dir. */
    int rank();

    int worldSize();

    default boolean isMain() {
        return rank() == 0;
    }

    /** Copies rank 0's values of {@code arrays} (float32 CPU, same shapes on every rank) into every other rank's, in place. */
    void broadcastFromMain(List<NDArray> arrays) throws IOException;

    /**
     * Replaces every gradient by its sum over ranks, in place, bit-identical on every rank.
     *
     * @param lookupTables indices of the gradients that belong to embedding tables ((rows, dim), zero outside the
     *     rows a batch looked up): an implementation may send only the rows some rank touched
     */
    void allReduceSum(List<NDArray> gradients, BitSet lookupTables) throws IOException;

    /** One parameter's share of a sharded update: elements [from, to) of its flattened values, their summed gradient. */
    record Share(int index, long from, long to, NDArray gradientSum) {}

    /** What a sharded step does between the gradients' reduce-scatter and the parameters' all-gather. */
    @FunctionalInterface
    interface ShardedUpdate {
        /**
         * Updates this rank's shares of the parameters, and returns the update of the parameters at {@code whole}
         * (run while the updated shares travel).
         *
         * @param mine  this rank's shares ({@link Share#gradientSum} are views, valid during the call)
         * @param whole the indices whose gradients were summed whole, in place: every rank updates those in full
         */
        Runnable apply(List<Share> mine, BitSet whole) throws IOException;
    }

    /** Whether {@link #reduceScatterUpdate} splits the update over the ranks. */
    default boolean shardsUpdates() {
        return false;
    }

    /**
     * The sum and the update of an optimizer step with the update's work split over the ranks (ZeRO stage 1's
     * partitioned update; torch's {@code ZeroRedundancyOptimizer} does the same over DDP): the gradients are
     * reduce-scattered, so each rank holds the finished sums of only its share of them; {@code update} updates that
     * share of {@code params}; the ranks then all-gather the updated shares, so every rank ends with the same
     * parameters, and while they travel the update {@code update} returned runs (the parameters whose gradients were
     * summed whole, the lookup tables). The same floats cross the wire as in
     * {@link #allReduceSum}; each rank runs 1/N of the update. The optimizer state of the shares a rank does not own
     * goes stale on it: {@link #allGatherShares} brings it up to date (before a checkpoint). The default sums whole and
     * updates everything on every rank.
     *
     * @param params index for index with {@code gradients}
     */
    default void reduceScatterUpdate(
            List<NDArray> gradients, BitSet lookupTables, List<NDArray> params, ShardedUpdate update)
            throws IOException {
        allReduceSum(gradients, lookupTables);
        BitSet whole = new BitSet();
        whole.set(0, gradients.size());
        update.apply(List.of(), whole).run();
    }

    /**
     * Copies every rank's shares (as {@link #reduceScatterUpdate} assigns them for gradients of these shapes and
     * lookup tables) of {@code arrays} into all ranks' arrays, in place: a sharded optimizer's state, made whole.
     */
    default void allGatherShares(List<NDArray> arrays, BitSet lookupTables) throws IOException {}

    /** The element-wise sum over ranks of small values (losses, token counts), the same doubles on every rank. */
    double[] sum(double[] values) throws IOException;

    /** Fails on every rank, naming the ranks, if the arrays are not bit-identical on all ranks. */
    void requireSame(List<NDArray> arrays, String what) throws IOException;

    /** Every rank's bytes, indexed by rank. */
    List<byte[]> allGather(byte[] mine) throws IOException;

    /** One process. */
    DataParallel SINGLE = new DataParallel() {
        @Override
        public int rank() {
            return 0;
        }

        @Override
        public int worldSize() {
            return 1;
        }

        @Override
        public void broadcastFromMain(List<NDArray> arrays) {}

        @Override
        public void allReduceSum(List<NDArray> gradients, BitSet lookupTables) {}

        @Override
        public double[] sum(double[] values) {
            return values.clone();
        }

        @Override
        public void requireSame(List<NDArray> arrays, String what) {}

        @Override
        public List<byte[]> allGather(byte[] mine) {
            return List.of(mine);
        }

        @Override
        public String toString() {
            return "single process";
        }
    };
}
