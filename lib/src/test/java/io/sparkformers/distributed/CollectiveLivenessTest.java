package io.sparkformers.distributed;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A dead, absent or stuck peer fails the others with an error naming it, never a hang. */
class CollectiveLivenessTest {

    @Test
    void aPeerThatNeverJoinsFailsRingSetUpWithATimeoutNamingItsRankAndAddress() throws Exception {
        CollectiveOptions options = Rings.FAST.withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(1));
        List<Collective.Listener> listeners = new ArrayList<>();
        for (int r = 0; r < 3; r++) {
            listeners.add(Collective.listen(Rings.LOOPBACK, options));
        }
        List<InetSocketAddress> peers =
                listeners.stream().map(Collective.Listener::address).toList();
        String absent = "rank 2 (" + Link.hostPort(peers.get(2)) + ")";
        long start = System.nanoTime();
        try {
            List<CollectiveException> errors = Rings.onAllRanks(
                    2,
                    r -> assertThrows(
                            CollectiveException.class, () -> listeners.get(r).join(r, 3, peers, new byte[32])));
            double seconds = (System.nanoTime() - start) / 1e9;
            assertTrue(seconds < 4, "took " + seconds + " s");
            for (int r = 0; r < 2; r++) {
                CollectiveException e = errors.get(r);
                assertInstanceOf(CollectiveTimeoutException.class, e, e.getMessage());
                assertTrue(
                        e.getMessage().startsWith("rank " + r + ": ")
                                && e.getMessage().contains(absent),
                        e.getMessage());
            }
        } finally {
            listeners.get(2).close();
        }
    }

    @Test
    void aPeerThatDiesMidAllReduceFailsTheOthersPromptlyNamingIt() throws Exception {
        // a long op timeout: the others must notice the closed sockets, not wait for a timeout
        CollectiveOptions options = Rings.FAST.withTimeouts(Duration.ofSeconds(30), Duration.ofSeconds(30));
        List<Collective> ring = Rings.form(3, Secrets.newJobSecret(), options);
        String dead = "rank 2 (" + Link.hostPort(ring.get(2).peers().get(2)) + ")";
        long start = System.nanoTime();
        try {
            List<CollectiveException> errors = Rings.onAllRanks(3, r -> {
                if (r == 2) {
                    Thread.sleep(300);
                    ring.get(2).close();
                    return null;
                }
                ByteBuffer buf = ByteBuffer.allocateDirect(4 * 300_000);
                return assertThrows(CollectiveException.class, () -> ring.get(r).allReduce(buf));
            });
            double seconds = (System.nanoTime() - start) / 1e9;
            assertTrue(seconds < 5, "took " + seconds + " s");
            for (int r = 0; r < 2; r++) {
                String m = errors.get(r).getMessage();
                assertTrue(m.startsWith("rank " + r + " (") && m.contains(dead), m);
            }
            CollectiveException again =
                    assertThrows(CollectiveException.class, () -> ring.get(0).allReduce(ByteBuffer.allocateDirect(16)));
            assertTrue(again.getMessage().contains("closed collective"), again.getMessage());
        } finally {
            Rings.closeAll(ring);
        }
    }

    @Test
    void aStuckPeerFailsTheOperationAfterTheTimeoutNamingIt() throws Exception {
        CollectiveOptions options = Rings.FAST.withTimeouts(Duration.ofSeconds(10), Duration.ofMillis(800));
        List<Collective> ring = Rings.form(2, Secrets.newJobSecret(), options);
        String stuck = "rank 1 (" + Link.hostPort(ring.get(0).peers().get(1)) + ")";
        long start = System.nanoTime();
        try {
            CollectiveException e = assertThrows(
                    CollectiveException.class, () -> ring.get(0).allReduce(ByteBuffer.allocateDirect(4 * 1000)));
            double seconds = (System.nanoTime() - start) / 1e9;
            assertInstanceOf(CollectiveTimeoutException.class, e, e.getMessage());
            assertTrue(seconds >= 0.7 && seconds < 3, "took " + seconds + " s");
            assertTrue(e.getMessage().contains("no data from " + stuck), e.getMessage());
        } finally {
            Rings.closeAll(ring);
        }
    }
}
