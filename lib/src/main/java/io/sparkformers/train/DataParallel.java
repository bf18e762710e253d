package io.sparkformers.train;

import ai.djl.ndarray.NDArray;
import java.io.IOException;
import java.util.BitSet;
import java.util.List;

/**
 * How one replica of a data-parallel {@link Trainer} run talks to the others (PyTorch DDP's process group, seen from
 * the training loop). The Trainer calls these in the same order on every rank: {@link #broadcastFromMain} once after
 * the model is built, {@link #allReduceSum} and {@link #sum} once per optimizer step, {@link #requireSame}
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
