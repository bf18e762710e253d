package io.sparkformers.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Bucketed gradient averaging on real DJL gradients (PyTorch engine, CPU). */
class GradientBucketsTest {
    /** Odd sizes: 15, 1000, 1001, 1, 2049, 3 floats = 4069 floats. */
    private static final Shape[] SHAPES = {
        new Shape(3, 5), new Shape(1000), new Shape(7, 11, 13), new Shape(1), new Shape(2049), new Shape(3, 1)
    };

    /** Rank r's gradient of parameter p: random constants c such that d/dx sum(x * c) = c. */
    private static float[] constants(int rank, int p, long size) {
        Random rnd = new Random(31L * rank + p);
        float[] c = new float[(int) size];
        for (int i = 0; i < c.length; i++) {
            c[i] = (float) rnd.nextGaussian();
        }
        return c;
    }

    @Test
    void averagedGradientsEqualTheMeanOverRanksAcrossBucketBoundariesAndDoNotAliasTheBuckets() throws Exception {
        int n = 3;
        // 1 KiB buckets = 256 floats: every array but the tiny ones spans several buckets
        long bucketCap = 1024;
        List<Collective> ring = Rings.form(n);
        NDManager manager = NDManager.newBaseManager();
        try {
            // real gradients: one backward pass per rank, sequentially (one GradientCollector per JVM)
            List<List<NDArray>> params = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                List<NDArray> xs = new ArrayList<>();
                for (int p = 0; p < SHAPES.length; p++) {
                    NDArray x = manager.ones(SHAPES[p]);
                    x.setRequiresGradient(true);
                    xs.add(x);
                }
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray loss = null;
                    for (int p = 0; p < SHAPES.length; p++) {
                        NDArray c = manager.create(constants(r, p, SHAPES[p].size()), SHAPES[p]);
                        NDArray term = xs.get(p).mul(c).sum();
                        loss = loss == null ? term : loss.add(term);
                    }
                    gc.backward(loss);
                }
                params.add(xs);
            }
            List<List<float[]>> results = Rings.onAllRanks(n, r -> {
                try (GradientBuckets buckets = new GradientBuckets(ring.get(r), bucketCap)) {
                    List<NDArray> grads =
                            params.get(r).stream().map(NDArray::getGradient).toList();
                    buckets.allReduceAverage(grads);
                    List<float[]> first = params.get(r).stream()
                            .map(x -> x.getGradient().toFloatArray())
                            .toList();
                    // a second step with other arrays of the same layout reuses the flat buffer: the first
                    // step's gradients must not change (they must hold copies, not views of the buckets)
                    List<NDArray> other = new ArrayList<>();
                    for (Shape s : SHAPES) {
                        other.add(manager.full(s, 7f * (r + 1)));
                    }
                    buckets.allReduceAverage(other);
                    for (NDArray o : other) {
                        for (float v : o.toFloatArray()) {
                            assertEquals(14f, v, 0f);
                        }
                    }
                    return first;
                }
            });
            for (int p = 0; p < SHAPES.length; p++) {
                int size = (int) SHAPES[p].size();
                float[] expected = new float[size];
                for (int r = 0; r < n; r++) {
                    float[] c = constants(r, p, size);
                    for (int i = 0; i < size; i++) {
                        expected[i] += c[i];
                    }
                }
                for (int i = 0; i < size; i++) {
                    expected[i] /= n;
                }
                for (int r = 0; r < n; r++) {
                    float[] got = results.get(r).get(p);
                    float[] now = params.get(r).get(p).getGradient().toFloatArray();
                    assertArrayEquals(got, now, "gradient " + p + " of rank " + r + " changed after the next step");
                    assertArrayEquals(results.get(0).get(p), got, 0f, "rank " + r + " differs from rank 0");
                    for (int i = 0; i < size; i++) {
                        assertEquals(expected[i], got[i], 1e-6f, "parameter " + p + " element " + i);
                    }
                }
            }
        } finally {
            manager.close();
            Rings.closeAll(ring);
        }
    }

    /**
     * Embedding tables: rank r's gradient of a (rows, 4) table after looking up {@code ids[r]} (real autograd, so
     * untouched rows are the zeros of a lookup's backward), next to a dense array. Returns, per rank, the table's and
     * the dense array's summed gradients, reduced with the tables flagged or not.
     */
    private static List<float[][]> reduceTables(List<Collective> ring, long rows, long[][] ids, boolean flagged)
            throws Exception {
        int n = ids.length;
        NDManager manager = NDManager.newBaseManager();
        try {
            List<List<NDArray>> grads = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                NDArray table = manager.ones(new Shape(rows, 4));
                NDArray dense = manager.ones(new Shape(37));
                table.setRequiresGradient(true);
                dense.setRequiresGradient(true);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray looked = table.get(manager.create(ids[r])); // (k, 4)
                    NDArray c = manager.create(constants(r, 0, looked.size()), looked.getShape());
                    NDArray d = manager.create(constants(r, 1, 37), new Shape(37));
                    gc.backward(looked.mul(c).sum().add(dense.mul(d).sum()));
                }
                grads.add(List.of(table.getGradient(), dense.getGradient()));
            }
            BitSet tables = new BitSet();
            if (flagged) tables.set(0);
            return Rings.onAllRanks(n, r -> {
                try (GradientBuckets buckets = new GradientBuckets(ring.get(r), 64)) {
                    buckets.allReduceSum(grads.get(r), tables);
                    return new float[][] {
                        grads.get(r).get(0).toFloatArray(), grads.get(r).get(1).toFloatArray()
                    };
                }
            });
        } finally {
            manager.close();
        }
    }

    @Test
    void embeddingTablesSendOnlyTouchedRowsAndSumToTheDenseResult() throws Exception {
        long rows = 1000;
        // rank 0 and 1 share row 7; row 999 is the last; repeated ids accumulate
        long[][] two = {{7, 3, 7, 999}, {7, 500, 12}};
        long[][] three = {{7, 3, 7, 999}, {7, 500, 12}, {0, 3, 3}};
        for (long[][] ids : List.of(two, three)) {
            int n = ids.length;
            List<Collective> ring = Rings.form(n);
            try {
                List<float[][]> dense = reduceTables(ring, rows, ids, false);
                List<float[][]> sparse = reduceTables(ring, rows, ids, true);
                java.util.Set<Long> touched = new java.util.HashSet<>();
                for (long[] r : ids) for (long id : r) touched.add(id);
                for (int r = 0; r < n; r++) {
                    assertArrayEquals(sparse.get(0)[0], sparse.get(r)[0], 0f, "rank " + r + " differs from rank 0");
                    // with 3 ranks the ring's chunks fall elsewhere once the table shrinks: the sum order may change
                    float tolerance = n == 2 ? 0f : 1e-6f;
                    assertArrayEquals(dense.get(r)[1], sparse.get(r)[1], tolerance, "the dense array beside the table");
                    float[] got = sparse.get(r)[0];
                    float[] want = dense.get(r)[0];
                    for (int i = 0; i < got.length; i++) {
                        long row = i / 4;
                        assertEquals(want[i], got[i], tolerance, "row " + row); // two ranks: a + b, the same bits
                        if (!touched.contains(row)) assertEquals(0f, got[i], 0f, "untouched row " + row);
                        else if (i % 4 == 0) assertTrue(got[i] != 0f, "touched row " + row + " lost its sum");
                    }
                }
            } finally {
                Rings.closeAll(ring);
            }
        }
    }

    @Test
    void aTableTouchedInMoreThanHalfItsRowsAndANonFiniteRowStillTravel() throws Exception {
        List<Collective> ring = Rings.form(2);
        try {
            // 6 of 8 rows touched: sent whole; the result must still be the dense sum
            long[][] ids = {{0, 1, 2}, {3, 4, 5}};
            List<float[][]> dense = reduceTables(ring, 8, ids, false);
            List<float[][]> sparse = reduceTables(ring, 8, ids, true);
            for (int r = 0; r < 2; r++) assertArrayEquals(dense.get(r)[0], sparse.get(r)[0], 0f);
        } finally {
            Rings.closeAll(ring);
        }
        // a NaN in one rank's row reaches every rank (the step's norm check must see it everywhere)
        List<Collective> ring2 = Rings.form(2);
        NDManager manager = NDManager.newBaseManager();
        try {
            List<NDArray> g0 = List.of(manager.zeros(new Shape(100, 2)));
            List<NDArray> g1 = List.of(manager.zeros(new Shape(100, 2)));
            g0.get(0).set(new ai.djl.ndarray.index.NDIndex("42, 1"), Float.NaN);
            g1.get(0).set(new ai.djl.ndarray.index.NDIndex("3, 0"), 2f);
            BitSet tables = new BitSet();
            tables.set(0);
            List<float[]> out = Rings.onAllRanks(2, r -> {
                try (GradientBuckets buckets = new GradientBuckets(ring2.get(r))) {
                    List<NDArray> g = r == 0 ? g0 : g1;
                    buckets.allReduceSum(g, tables);
                    return g.get(0).toFloatArray();
                }
            });
            for (float[] o : out) {
                assertTrue(Float.isNaN(o[42 * 2 + 1]), "the NaN row was dropped");
                assertEquals(2f, o[3 * 2], 0f);
                assertEquals(0f, o[50 * 2], 0f);
            }
        } finally {
            manager.close();
            Rings.closeAll(ring2);
        }
    }

    /**
     * A sharded step on real gradients (the arrays of {@link #SHAPES} and a looked-up table, 1 KiB buckets so arrays
     * span buckets), 2 and 3 ranks: the shares partition every array over the ranks and hold the all-reduce's sums
     * (the same bits with 2 ranks; with 3 the table rows no longer share the last bucket, so the ring may add in another
     * order), the table is summed whole; after each rank writes f(sum) into its shares of other arrays, the all-gather
     * leaves f(sum) everywhere on every rank, and leaves the table's array alone.
     */
    @Test
    void shardsPartitionTheArraysHoldTheSumsAndTheAllGatherSpreadsTheUpdatedShares() throws Exception {
        for (int n : new int[] {2, 3}) {
            List<Collective> ring = Rings.form(n);
            NDManager manager = NDManager.newBaseManager();
            try {
                long[][] ids = {{7, 3, 7}, {7, 50, 12}, {0, 3, 3}};
                List<List<NDArray>> grads = new ArrayList<>();
                List<List<NDArray>> expected = new ArrayList<>();
                for (int r = 0; r < n; r++) {
                    List<NDArray> g = new ArrayList<>();
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray table = manager.ones(new Shape(100, 4));
                        table.setRequiresGradient(true);
                        NDArray looked = table.get(manager.create(ids[r]));
                        NDArray loss = looked.mul(manager.create(constants(r, 99, looked.size()), looked.getShape()))
                                .sum();
                        List<NDArray> xs = new ArrayList<>();
                        for (int p = 0; p < SHAPES.length; p++) {
                            NDArray x = manager.ones(SHAPES[p]);
                            x.setRequiresGradient(true);
                            xs.add(x);
                            loss = loss.add(x.mul(manager.create(constants(r, p, SHAPES[p].size()), SHAPES[p]))
                                    .sum());
                        }
                        gc.backward(loss);
                        g.add(xs.get(0).getGradient());
                        g.add(table.getGradient()); // the table between dense arrays
                        for (int p = 1; p < SHAPES.length; p++) g.add(xs.get(p).getGradient());
                    }
                    grads.add(g);
                    List<NDArray> copy = new ArrayList<>();
                    for (NDArray a : g) copy.add(a.duplicate());
                    expected.add(copy);
                }
                BitSet tables = new BitSet();
                tables.set(1);
                long bucketCap = 1024;
                Rings.onAllRanks(n, r -> {
                    try (GradientBuckets b = new GradientBuckets(ring.get(r), bucketCap)) {
                        b.allReduceSum(expected.get(r), tables);
                    }
                    return null;
                });
                int ranks = n;
                List<List<long[]>> owned = Rings.onAllRanks(n, r -> {
                    List<long[]> mine = new ArrayList<>();
                    List<NDArray> g = grads.get(r);
                    List<NDArray> params = new ArrayList<>();
                    for (NDArray a : g) params.add(manager.full(a.getShape(), Float.NaN));
                    try (GradientBuckets b = new GradientBuckets(ring.get(r), bucketCap)) {
                        try (GradientBuckets.Shards s = b.reduceScatterSum(g, tables)) {
                            BitSet whole = new BitSet();
                            whole.set(1);
                            assertEquals(whole, s.whole());
                            float tol = ranks == 2 ? 0f : 1e-6f;
                            assertArrayEquals(
                                    expected.get(r).get(1).toFloatArray(),
                                    g.get(1).toFloatArray(),
                                    tol);
                            for (GradientBuckets.Shard sh : s.mine()) {
                                float[] want = expected.get(r).get(sh.index()).toFloatArray();
                                float[] got = sh.sum().toFloatArray();
                                float[] p = params.get(sh.index()).toFloatArray();
                                for (int i = 0; i < got.length; i++) {
                                    assertEquals(want[(int) sh.from() + i], got[i], tol, "share of " + sh.index());
                                    p[(int) sh.from() + i] = 2 * got[i] + 1;
                                }
                                params.get(sh.index()).set(p);
                                mine.add(new long[] {sh.index(), sh.from(), sh.to()});
                            }
                        }
                        b.allGatherShards(params, tables);
                    }
                    for (int a = 0; a < g.size(); a++) {
                        float[] got = params.get(a).toFloatArray();
                        float[] want = expected.get(r).get(a).toFloatArray();
                        for (int i = 0; i < got.length; i++) {
                            if (a == 1) assertTrue(Float.isNaN(got[i]), "the table's array was written");
                            else assertEquals(2 * want[i] + 1, got[i], 1e-5f, "array " + a + " element " + i);
                        }
                    }
                    return mine;
                });
                // the shares of all ranks cover every element of every array but the table exactly once
                for (int a = 0; a < grads.get(0).size(); a++) {
                    if (a == 1) continue;
                    int[] cover = new int[(int) grads.get(0).get(a).size()];
                    for (List<long[]> mine : owned) {
                        for (long[] s : mine) if (s[0] == a) for (long i = s[1]; i < s[2]; i++) cover[(int) i]++;
                    }
                    for (int i = 0; i < cover.length; i++) assertEquals(1, cover[i], "array " + a + " element " + i);
                }
            } finally {
                manager.close();
                Rings.closeAll(ring);
            }
        }
    }

    @Test
    void bucketCountFollowsTheCap() throws Exception {
        List<Collective> ring = Rings.form(1);
        try (GradientBuckets b = new GradientBuckets(ring.get(0), 1024)) {
            assertEquals(0, b.bucketCount(0));
            assertEquals(1, b.bucketCount(256));
            assertEquals(2, b.bucketCount(257));
            assertEquals(16, b.bucketCount(4069));
        } finally {
            Rings.closeAll(ring);
        }
    }
}
