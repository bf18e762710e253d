package io.sparkformers.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The sharding scheme: same global batch for any worker count, seeded epochs, HF's step counts. */
class DataShardingTest {

    private static TreeSet<Integer> union(List<int[]> batches) {
        TreeSet<Integer> s = new TreeSet<>();
        for (int[] b : batches) for (int i : b) s.add(i);
        return s;
    }

    @Test
    void everyWorkerCountSeesTheSameGlobalBatchAtEachStep() {
        DataSharding d = new DataSharding(103, 4, 6, false, 42, null);
        for (int epoch = 0; epoch < 2; epoch++) {
            for (DataSharding.Step step : d.steps(epoch)) {
                TreeSet<Integer> global = union(step.microBatches());
                for (int w : new int[] {1, 2, 3, 6}) {
                    List<int[]> all = new ArrayList<>();
                    for (int r = 0; r < w; r++) all.addAll(step.forWorker(r, w));
                    assertEquals(global, union(all), "world size " + w);
                    assertEquals(step.microBatches().size(), all.size());
                }
            }
        }
    }

    @Test
    void anEpochCoversEveryExampleOnceInHfStepCount() {
        DataSharding d = new DataSharding(103, 4, 6, false, 42, null);
        // 26 micro-batches, 6 per step: floor(26 / 6) = 4 steps (HF num_update_steps_per_epoch); the rest joins step 4
        assertEquals(4, d.stepsPerEpoch());
        assertEquals(
                TrainingArguments.builder("x")
                        .perDeviceTrainBatchSize(4)
                        .gradientAccumulationSteps(6)
                        .build()
                        .numUpdateStepsPerEpoch(103, 1),
                d.stepsPerEpoch());
        List<int[]> all = new ArrayList<>();
        for (DataSharding.Step s : d.steps(0)) all.addAll(s.microBatches());
        assertEquals(103, all.stream().mapToInt(b -> b.length).sum());
        assertEquals(103, union(all).size());
        assertEquals(8, d.steps(0).get(3).microBatches().size());
    }

    @Test
    void ordersAreSeededPerEpochAndReproducible() {
        DataSharding a = new DataSharding(50, 8, 1, false, 7, null);
        DataSharding b = new DataSharding(50, 8, 1, false, 7, null);
        assertArrayEquals(a.order(3), b.order(3));
        assertFalse(Arrays.equals(a.order(0), a.order(1)));
        assertFalse(Arrays.equals(a.order(0), new DataSharding(50, 8, 1, false, 8, null).order(0)));
    }

    @Test
    void dropLastDropsTheShortBatch() {
        DataSharding d = new DataSharding(10, 4, 1, true, 1, null);
        assertEquals(2, d.stepsPerEpoch());
        for (DataSharding.Step s : d.steps(0)) assertEquals(4, s.examples());
    }

    @Test
    void groupByLengthSortsMegabatchesLongestFirst() {
        int n = 500;
        int[] lengths = new int[n];
        for (int i = 0; i < n; i++) lengths[i] = 5 + (i * 37) % 120;
        DataSharding d = new DataSharding(n, 2, 1, false, 3, lengths);
        int[] order = d.order(0);
        assertEquals(124, lengths[order[0]], "the longest example comes first");
        assertEquals(n, new TreeSet<>(Arrays.stream(order).boxed().toList()).size());
        int mega = DataSharding.MEGA_BATCH_MULT * 2;
        for (int s = 0; s < n; s += mega) {
            for (int i = s + 2; i < Math.min(n, s + mega); i++) { // HF swaps one megabatch head to the front
                assertTrue(lengths[order[i - 1]] >= lengths[order[i]], "megabatch at " + s + " sorted");
            }
        }
    }
}
