package io.sparkformers.jobs.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AllReduceBenchmarkTest {

    @Test
    void threeRanksMeasureEveryPeerOnTheSameBytes() throws Exception {
        // 3 ranks: each raw-ring rank streams 4/3 of its buffer, so the peer wraps round its source and sink;
        // one round, so every median is that round's value and the ratios follow from the bandwidths
        AllReduceBenchmark.Result r = AllReduceBenchmark.run(3, 100_003, 1);
        assertEquals(400_012, r.bytes());
        assertTrue(r.seconds() > 0 && Double.isFinite(r.seconds()), "seconds " + r.seconds());
        for (double bandwidth : new double[] {r.busBandwidth(), r.loopbackBandwidth(), r.rawRingBandwidth()}) {
            assertTrue(bandwidth > 0 && Double.isFinite(bandwidth), r.toString());
        }
        assertEquals(4.0 / 3 * r.bytes() / r.seconds(), r.busBandwidth(), 1e-6 * r.busBandwidth());
        assertEquals(r.busBandwidth() / r.rawRingBandwidth(), r.busOverRawRing(), 1e-9);
        assertEquals(r.busBandwidth() / r.loopbackBandwidth(), r.busOverLoopback(), 1e-9);
        assertEquals(4.0 / 3 * r.bytes() / r.encryptedSeconds(), r.encryptedBusBandwidth(), 1e-6 * r.bytes());
        assertEquals(r.encryptedBusBandwidth() / r.busBandwidth(), r.encryptedOverClear(), 1e-9);
    }

    @Test
    void oneRankIsRefused() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> AllReduceBenchmark.run(1, 10, 1));
        assertTrue(e.getMessage().contains("at least 2 ranks"), e.getMessage());
    }
}
