package io.sparkformers.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
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
