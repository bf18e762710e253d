package io.sparkformers.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Which examples every optimizer step reads, the same for one process or many. The scheme:
 * <ol>
 *   <li>Epoch {@code e} orders the {@code n} examples by a Fisher–Yates shuffle seeded with {@code (seed, e)} (HF
 *       {@code data_seed}, else {@code seed}); with {@code group_by_length}, as HF's {@code LengthGroupedSampler}, the
 *       shuffled order is cut into megabatches of 50 global batches, each sorted by length (longest first), and the
 *       longest example overall is moved to the front so an out-of-memory shows at the first step.</li>
 *   <li>The order is cut into micro-batches of {@code microBatchSize} (the last one smaller, or dropped under
 *       {@code dataloader_drop_last}).</li>
 *   <li>Runs of {@code microBatchesPerStep} consecutive micro-batches form one optimizer step (the global batch).
 *       An epoch has {@code max(floor(micro-batches / microBatchesPerStep), 1)} steps, as HF's
 *       {@code num_update_steps_per_epoch}; leftover micro-batches join the epoch's last step, so no example is
 *       skipped.</li>
 *   <li>Worker {@code rank} of {@code worldSize} runs the step's micro-batches {@code m} with
 *       {@code m % worldSize == rank}. Each micro-batch loss is scaled by {@code 1 / (micro-batches in the step)}
 *       (HF's {@code loss / gradient_accumulation_steps}), so the sum of all workers' gradients — an all-reduce sum —
 *       is the same global-batch gradient whatever the worker count.</li>
 * </ol>
 * Single process: {@code microBatchesPerStep = gradient_accumulation_steps}; data parallel over W workers with the
 * same global batch: {@code gradient_accumulation_steps × W}. Steps depend only on (n, seed, epoch, sizes), never on
 * the worker count, so a resumed run (any worker count) reads exactly the steps the interrupted one would have.
 * Differs from torch's {@code DistributedSampler} (strided, padded shards) on purpose: that one changes the global
 * batch with the worker count.
 */
public final class DataSharding {

    /** HF {@code LengthGroupedSampler}'s {@code mega_batch_mult}. */
    static final int MEGA_BATCH_MULT = 50;

    private final int numExamples;
    private final int microBatchSize;
    private final int microBatchesPerStep;
    private final boolean dropLast;
    private final long seed;
    private final int[] lengths;

    /**
     * @param lengths token counts per example for group_by_length, or null for a plain shuffle
     */
    public DataSharding(
            int numExamples, int microBatchSize, int microBatchesPerStep, boolean dropLast, long seed, int[] lengths) {
        if (numExamples <= 0) throw new IllegalArgumentException("the training set is empty");
        if (microBatchSize <= 0)
            throw new IllegalArgumentException("micro-batch size must be > 0 but was " + microBatchSize);
        if (microBatchesPerStep <= 0) {
            throw new IllegalArgumentException("micro-batches per step must be > 0 but was " + microBatchesPerStep);
        }
        if (lengths != null && lengths.length != numExamples) {
            throw new IllegalArgumentException(lengths.length + " lengths for " + numExamples + " examples");
        }
        if (dropLast && numExamples < microBatchSize) {
            throw new IllegalArgumentException("dataloader_drop_last with " + numExamples + " examples and batch size "
                    + microBatchSize + " leaves no batch: lower the batch size or set dataloader_drop_last false");
        }
        this.numExamples = numExamples;
        this.microBatchSize = microBatchSize;
        this.microBatchesPerStep = microBatchesPerStep;
        this.dropLast = dropLast;
        this.seed = seed;
        this.lengths = lengths == null ? null : lengths.clone();
    }

    /** The micro-batches of one optimizer step, each a list of example indices. */
    public record Step(List<int[]> microBatches) {
        public Step {
            microBatches = List.copyOf(microBatches);
        }

        /** The micro-batches worker {@code rank} of {@code worldSize} runs: those with index ≡ rank (mod worldSize). */
        public List<int[]> forWorker(int rank, int worldSize) {
            if (worldSize <= 0 || rank < 0 || rank >= worldSize) {
                throw new IllegalArgumentException("rank " + rank + " is not in [0, " + worldSize + ")");
            }
            List<int[]> out = new ArrayList<>();
            for (int m = rank; m < microBatches.size(); m += worldSize) out.add(microBatches.get(m));
            return out;
        }

        /** Examples in the step (the global batch size; the last step of an epoch may differ). */
        public int examples() {
            int n = 0;
            for (int[] b : microBatches) n += b.length;
            return n;
        }
    }

    private int microBatchesPerEpoch() {
        return dropLast ? numExamples / microBatchSize : (numExamples + microBatchSize - 1) / microBatchSize;
    }

    /** Optimizer steps per epoch: {@code max(floor(micro-batches / microBatchesPerStep), 1)}. */
    public int stepsPerEpoch() {
        return Math.max(microBatchesPerEpoch() / microBatchesPerStep, 1);
    }

    /** The example order of {@code epoch} (0-based). */
    public int[] order(long epoch) {
        int[] idx = new int[numExamples];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        SplittableRandom rnd = new SplittableRandom(mix(seed, epoch));
        for (int i = idx.length - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        if (lengths != null) groupByLength(idx);
        return idx;
    }

    private void groupByLength(int[] idx) {
        int mega = MEGA_BATCH_MULT * microBatchSize * microBatchesPerStep;
        for (int s = 0; s < idx.length; s += mega) {
            int e = Math.min(idx.length, s + mega);
            Integer[] part = new Integer[e - s];
            for (int i = s; i < e; i++) part[i - s] = idx[i];
            Arrays.sort(part, (a, b) -> Integer.compare(lengths[b], lengths[a])); // stable: ties keep shuffle order
            for (int i = s; i < e; i++) idx[i] = part[i - s];
        }
        // HF swaps the longest megabatch head to the very front
        int longest = 0;
        for (int s = 0; s < idx.length; s += mega) if (lengths[idx[s]] > lengths[idx[longest]]) longest = s;
        int t = idx[0];
        idx[0] = idx[longest];
        idx[longest] = t;
    }

    /** Every step of {@code epoch}, in order. */
    public List<Step> steps(long epoch) {
        int[] order = order(epoch);
        int nb = microBatchesPerEpoch();
        List<int[]> micro = new ArrayList<>(nb);
        for (int b = 0; b < nb; b++) {
            int from = b * microBatchSize;
            micro.add(Arrays.copyOfRange(order, from, Math.min(order.length, from + microBatchSize)));
        }
        int steps = stepsPerEpoch();
        List<Step> out = new ArrayList<>(steps);
        for (int s = 0; s < steps; s++) {
            int from = s * microBatchesPerStep;
            int to = s == steps - 1 ? nb : Math.min(nb, from + microBatchesPerStep);
            out.add(new Step(micro.subList(from, to)));
        }
        return out;
    }

    /** A 64-bit mix of the seed and the epoch (SplitMix64's finaliser over seed + golden-ratio·epoch). */
    static long mix(long seed, long stream) {
        long z = seed + 0x9E3779B97F4A7C15L * (stream + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
