package io.sparkformers.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Ring all-reduce, broadcast, barrier and checksums with 1–4 ranks as threads on loopback. */
class CollectiveTest {

    private static ByteBuffer floats(float[] values) {
        ByteBuffer b = ByteBuffer.allocateDirect(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return b;
    }

    private static float[] toFloats(ByteBuffer b) {
        float[] out = new float[b.remaining() / 4];
        b.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    /** Rank r's test input: random normals scaled differently per rank, so summation order matters. */
    private static float[] input(int rank, int size) {
        Random rnd = new Random(1000L * rank + size);
        float[] x = new float[size];
        for (int i = 0; i < size; i++) {
            x[i] = (float) (rnd.nextGaussian() * Math.pow(10, rank % 3));
        }
        return x;
    }

    @Test
    void allReduceEqualsPlainSumAndIsBitIdenticalOnEveryRankForOneToFourRanksAndAwkwardSizes() throws Exception {
        int[] sizes = {0, 1, 2, 3, 5, 7, 1000, 1023, 4099};
        for (int n = 1; n <= 4; n++) {
            int worldSize = n;
            List<Collective> ring = Rings.form(n);
            try {
                for (int size : sizes) {
                    float[] expected = new float[size];
                    for (int r = 0; r < n; r++) {
                        float[] x = input(r, size);
                        for (int i = 0; i < size; i++) {
                            expected[i] += x[i];
                        }
                    }
                    List<ByteBuffer> results = Rings.onAllRanks(n, r -> {
                        ByteBuffer buf = floats(input(r, size));
                        ring.get(r).allReduce(buf);
                        return buf;
                    });
                    byte[] first = bytes(results.get(0));
                    for (int r = 0; r < n; r++) {
                        assertArrayEquals(
                                first,
                                bytes(results.get(r)),
                                "rank " + r + " differs from rank 0, n=" + worldSize + " size=" + size);
                        float[] got = toFloats(results.get(r));
                        for (int i = 0; i < size; i++) {
                            assertEquals(
                                    expected[i],
                                    got[i],
                                    1e-4f * (1 + Math.abs(expected[i])),
                                    "n=" + worldSize + " size=" + size + " element " + i);
                        }
                    }
                }
            } finally {
                Rings.closeAll(ring);
            }
        }
    }

    @Test
    void reduceScatterFinishesEachRanksOwnedRangeAsAllReduceDoesAndAllGatherSpreadsThem() throws Exception {
        int[] sizes = {1, 2, 3, 7, 1023, 4099};
        for (int n = 1; n <= 4; n++) {
            int worldSize = n;
            List<Collective> ring = Rings.form(n);
            try {
                for (int size : sizes) {
                    List<ByteBuffer> reduced = Rings.onAllRanks(n, r -> {
                        ByteBuffer buf = floats(input(r, size));
                        ring.get(r).allReduce(buf);
                        return buf;
                    });
                    float[] sums = toFloats(reduced.get(0));
                    // each rank: reduce-scatter, then replace its owned sums by f(sum) = 2·sum + rank, then all-gather
                    List<ByteBuffer> gathered = Rings.onAllRanks(n, r -> {
                        ByteBuffer buf = floats(input(r, size));
                        Collective c = ring.get(r);
                        c.reduceScatter(buf);
                        long[] own = c.ownedRange(size);
                        for (int i = (int) own[0]; i < own[1]; i++) {
                            float sum = buf.getFloat(4 * i);
                            assertEquals(
                                    Float.floatToRawIntBits(sums[i]),
                                    Float.floatToRawIntBits(sum),
                                    "n=" + worldSize + " size=" + size + " rank " + r + " element " + i);
                            buf.putFloat(4 * i, 2 * sum + r);
                        }
                        c.allGather(buf);
                        return buf;
                    });
                    long covered = 0;
                    for (int r = 0; r < n; r++) {
                        long[] own = RingAlgorithms.ownedChunk(r, n, size);
                        covered += own[1] - own[0];
                        for (int q = 0; q < n; q++) {
                            float[] got = toFloats(gathered.get(q));
                            for (int i = (int) own[0]; i < own[1]; i++) {
                                assertEquals(2 * sums[i] + r, got[i], 0f, "n=" + worldSize + " rank " + q + " el " + i);
                            }
                        }
                    }
                    assertEquals(size, covered, "the owned ranges partition the buffer");
                }
            } finally {
                Rings.closeAll(ring);
            }
        }
    }

    @Test
    void allReduceOfIntegerValuesIsExactAndFollowsTheDocumentedOrder() throws Exception {
        int n = 3;
        int size = 10_001;
        List<Collective> ring = Rings.form(n);
        try {
            List<float[]> results = Rings.onAllRanks(n, r -> {
                float[] x = new float[size];
                for (int i = 0; i < size; i++) {
                    x[i] = (r + 1) * 1000 + i % 97;
                }
                ring.get(r).allReduce(x);
                return x;
            });
            for (int r = 0; r < n; r++) {
                for (int i = 0; i < size; i++) {
                    assertEquals(6000 + 3 * (i % 97), results.get(r)[i], 0f, "rank " + r + " element " + i);
                }
            }
        } finally {
            Rings.closeAll(ring);
        }
    }

    @Test
    void allReduceRespectsPositionAndLimitOfTheBuffer() throws Exception {
        List<Collective> ring = Rings.form(2);
        try {
            List<ByteBuffer> results = Rings.onAllRanks(2, r -> {
                ByteBuffer buf = floats(new float[] {-1, 1, 2, 3, -1});
                buf.position(4).limit(16);
                ring.get(r).allReduce(buf);
                assertEquals(4, buf.position());
                return buf.clear();
            });
            assertArrayEquals(new float[] {-1, 2, 4, 6, -1}, toFloats(results.get(1)));
        } finally {
            Rings.closeAll(ring);
        }
    }

    @Test
    void allReduceAverageDividesTheSumByTheWorldSize() throws Exception {
        List<Collective> ring = Rings.form(4);
        try {
            List<ByteBuffer> results = Rings.onAllRanks(4, r -> {
                ByteBuffer buf = floats(new float[] {r, 2 * r, 1});
                ring.get(r).allReduceAverage(buf);
                return buf;
            });
            for (ByteBuffer b : results) {
                assertArrayEquals(new float[] {1.5f, 3f, 1f}, toFloats(b));
            }
        } finally {
            Rings.closeAll(ring);
        }
    }

    @Test
    void allReduceAverageGivesTheSameBytesAsSummingThenDividing() throws Exception {
        int size = 50_003; // Rings.FAST has 4 KiB segments: several per chunk, a short last one
        for (int n = 2; n <= 4; n++) {
            int worldSize = n;
            List<Collective> ring = Rings.form(n);
            try {
                List<ByteBuffer> sums = Rings.onAllRanks(n, r -> {
                    ByteBuffer buf = floats(input(r, size));
                    ring.get(r).allReduce(buf);
                    return buf;
                });
                List<ByteBuffer> averages = Rings.onAllRanks(n, r -> {
                    ByteBuffer buf = floats(input(r, size));
                    ring.get(r).allReduceAverage(buf);
                    return buf;
                });
                float[] sum = toFloats(sums.get(0));
                for (int i = 0; i < size; i++) {
                    sum[i] /= worldSize;
                }
                for (int r = 0; r < n; r++) {
                    assertArrayEquals(bytes(floats(sum)), bytes(averages.get(r)), "n=" + n + " rank " + r);
                }
            } finally {
                Rings.closeAll(ring);
            }
        }
    }

    @Test
    void broadcastCopiesTheRootsBytesToEveryRank() throws Exception {
        for (int n = 1; n <= 4; n++) {
            int worldSize = n;
            List<Collective> ring = Rings.form(n);
            try {
                for (int root = 0; root < n; root++) {
                    int from = root;
                    byte[] payload = new byte[10_007];
                    new Random(root).nextBytes(payload);
                    List<ByteBuffer> results = Rings.onAllRanks(worldSize, r -> {
                        ByteBuffer buf = ByteBuffer.allocateDirect(payload.length);
                        if (r == from) {
                            buf.put(payload).flip();
                        }
                        ring.get(r).broadcast(buf, from);
                        return buf;
                    });
                    for (int r = 0; r < n; r++) {
                        assertArrayEquals(
                                payload, bytes(results.get(r)), "n=" + worldSize + " root=" + from + " rank=" + r);
                    }
                }
            } finally {
                Rings.closeAll(ring);
            }
        }
    }

    @Test
    void barrierReleasesNoRankBeforeTheLastOneArrives() throws Exception {
        int n = 3;
        List<Collective> ring = Rings.form(n);
        try {
            long[] released = new long[n];
            long lastArrival = System.nanoTime() + 300_000_000L;
            Rings.onAllRanks(n, r -> {
                if (r == 2) {
                    Thread.sleep(300);
                }
                ring.get(r).barrier();
                released[r] = System.nanoTime();
                return null;
            });
            for (int r = 0; r < n; r++) {
                assertTrue(released[r] >= lastArrival - 50_000_000L, "rank " + r + " left the barrier early");
            }
        } finally {
            Rings.closeAll(ring);
        }
    }

    @Test
    void checksumsAreGatheredInRankOrderAndMismatchesNameTheRank() throws Exception {
        int n = 3;
        List<Collective> ring = Rings.form(n);
        try {
            List<long[]> gathered = Rings.onAllRanks(n, r -> ring.get(r).allGather(100L + r));
            for (long[] g : gathered) {
                assertArrayEquals(new long[] {100, 101, 102}, g);
            }
            List<Double> sums = Rings.onAllRanks(n, r -> ring.get(r).allReduceChecksum(0.1 * (r + 1)));
            assertEquals(sums.get(0), sums.get(1));
            assertEquals(sums.get(0), sums.get(2));
            assertEquals(0.1 + 0.2 + 0.30000000000000004, sums.get(0), 0.0);
            List<Long> longSums = Rings.onAllRanks(n, r -> ring.get(r).allReduceChecksum(Long.MAX_VALUE));
            assertEquals(Long.MAX_VALUE * 3, longSums.get(0));

            List<String> errors = Rings.onAllRanks(n, r -> {
                CollectiveException e = assertThrows(
                        CollectiveException.class,
                        () -> ring.get(r).requireSameOnAllRanks(r == 2 ? 0xbad : 0xfeed, "weights"));
                return e.getMessage();
            });
            assertTrue(
                    errors.get(0).contains("replicas disagree on weights: rank 0 = feed, rank 2 = bad"), errors.get(0));
            Rings.onAllRanks(n, r -> {
                ring.get(r).requireSameOnAllRanks(42, "weights");
                return null;
            });
        } finally {
            Rings.closeAll(ring);
        }
    }

    @Test
    void ranksWithDifferentBufferSizesFailNamingTheMismatchInsteadOfCorruptingData() throws Exception {
        List<Collective> ring = Rings.form(2);
        try {
            List<String> errors = Rings.onAllRanks(2, r -> {
                ByteBuffer buf = floats(new float[r == 0 ? 100 : 102]);
                CollectiveException e = assertThrows(
                        CollectiveException.class, () -> ring.get(r).allReduce(buf));
                return e.getMessage();
            });
            assertTrue(errors.stream().anyMatch(m -> m.contains("out of step")), errors.toString());
        } finally {
            Rings.closeAll(ring);
        }
    }

    @Test
    void aLargeBufferCrossesManySegmentsWithoutDeadlockWhenChunksExceedSocketBuffers() throws Exception {
        int n = 2;
        int size = 3_000_001;
        List<Collective> ring = Rings.form(
                n, Secrets.newJobSecret(), Rings.FAST.withSegmentBytes(1 << 20).withSocketBufferBytes(64 << 10));
        try {
            List<ByteBuffer> results = Rings.onAllRanks(n, r -> {
                float[] x = new float[size];
                Arrays.fill(x, r + 1);
                ByteBuffer buf = floats(x);
                ring.get(r).allReduce(buf);
                return buf;
            });
            float[] got = toFloats(results.get(0));
            for (int i = 0; i < size; i += 997) {
                assertEquals(3f, got[i], 0f);
            }
            assertArrayEquals(bytes(results.get(0)), bytes(results.get(1)));
        } finally {
            Rings.closeAll(ring);
        }
    }
}
