package io.sparkformers.jobs.bench;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The benchmark's split of anonymous memory into the Java heap's resident pages and the rest. */
class GenerationMemoryAccountingTest {
    @Test
    void heapResidentPagesFollowATouchedArray() {
        assumeTrue(Files.isReadable(Path.of("/proc/self/smaps")), "Linux only");
        long[] range = GenerationBenchmark.javaHeapRange();
        assertNotNull(range, "GC.heap_info printed no address range");
        assertTrue(range[0] < range[1]);
        byte[] big = new byte[64 << 20]; // a humongous object: 64 MiB of heap pages, touched by zeroing
        for (int i = 0; i < big.length; i += 4096) big[i] = 1;
        // the live, touched array lies inside the range, so at least its pages count (a JVM that ran other tests may
        // reuse pages already resident, so growth against a reading before the allocation is not asserted)
        long after = GenerationBenchmark.residentKb(range);
        long anon = GenerationBenchmark.procStatusKb("RssAnon");
        assertTrue(after >= 60 * 1024, "heap resident " + after + " kB is less than the live 64 MiB array");
        assertTrue(after <= anon, "heap resident " + after + " kB is more than RssAnon " + anon + " kB");
        assertTrue(big[4096] == 1);
    }
}
