package io.sparkformers.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Connections without the job secret are refused before any tensor byte is accepted. */
class CollectiveSecurityTest {

    /** What an attacker saw: how many bytes the rank sent it before closing, and whether it was closed. */
    private record Outcome(int bytesReceived, boolean closedByRank) {}

    private static Outcome readUntilClosed(SocketChannel ch) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(4096);
        int total = 0;
        ch.socket().setSoTimeout(10_000);
        var in = ch.socket().getInputStream();
        byte[] b = new byte[4096];
        int n;
        while ((n = in.read(b)) >= 0) {
            total += n;
        }
        buf.clear();
        return new Outcome(total, true);
    }

    /** Sends random bytes, then a stream of would-be float frames, and reports how the rank reacted. */
    private static CompletableFuture<Outcome> garbageSender(InetSocketAddress target) {
        return CompletableFuture.supplyAsync(() -> {
            try (SocketChannel ch = SocketChannel.open(target)) {
                byte[] junk = new byte[Handshake.AUTH_BYTES];
                new Random(7).nextBytes(junk);
                ch.write(ByteBuffer.wrap(junk));
                ByteBuffer frame = ByteBuffer.allocate(16 + 4 * 1024);
                frame.putInt(0x53464454).putInt(4 * 1024).putLong(1);
                while (frame.hasRemaining()) {
                    frame.putFloat(1e9f);
                }
                try {
                    for (int i = 0; i < 100; i++) {
                        ch.write(frame.flip());
                    }
                } catch (IOException expected) {
                    // the rank closed the connection
                }
                return readUntilClosed(ch);
            } catch (IOException e) {
                return new Outcome(-1, true);
            }
        });
    }

    /** Speaks the protocol correctly, claiming to be {@code claimedRank}, but with the wrong secret. */
    private static CompletableFuture<Outcome> wrongSecretPeer(
            InetSocketAddress target, int claimedRank, int targetRank, int world) {
        return CompletableFuture.supplyAsync(() -> {
            try (SocketChannel ch = SocketChannel.open(target)) {
                ch.socket().setSoTimeout(10_000);
                var in = ch.socket().getInputStream();
                byte[] hello = in.readNBytes(Handshake.HELLO_BYTES);
                byte[] nonceA = java.util.Arrays.copyOfRange(hello, 8, 8 + Handshake.NONCE_BYTES);
                byte[] nonceC = new byte[Handshake.NONCE_BYTES];
                byte[] mac = Handshake.mac(
                        Secrets.newJobSecret(), nonceA, "connect".getBytes(), claimedRank, targetRank, world, nonceC);
                ByteBuffer auth = ByteBuffer.allocate(Handshake.AUTH_BYTES)
                        .put("SFCC".getBytes())
                        .putInt(claimedRank)
                        .putInt(targetRank)
                        .putInt(world)
                        .put(nonceC)
                        .put(mac)
                        .flip();
                ch.write(auth);
                return readUntilClosed(ch);
            } catch (IOException e) {
                return new Outcome(-1, true);
            }
        });
    }

    private static List<float[]> honestSum(List<Collective> ring, int size) throws Exception {
        return Rings.onAllRanks(ring.size(), r -> {
            float[] x = new float[size];
            for (int i = 0; i < size; i++) {
                x[i] = r * 100 + i % 13;
            }
            ring.get(r).allReduce(x);
            return x;
        });
    }

    @Test
    void impostorsWithoutTheSecretAreRefusedAndTheRingStillComputesExactlyTheHonestSum() throws Exception {
        int n = 3;
        byte[] secret = Secrets.newJobSecret();
        List<Collective.Listener> listeners = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            listeners.add(Collective.listen(Rings.LOOPBACK, Rings.FAST));
        }
        List<InetSocketAddress> peers =
                listeners.stream().map(Collective.Listener::address).toList();
        InetSocketAddress victim = peers.get(1);
        // connected before the legitimate left neighbour (rank 0), so the rank meets them first
        CompletableFuture<Outcome> garbage = garbageSender(victim);
        CompletableFuture<Outcome> forger = wrongSecretPeer(victim, 0, 1, n);
        SocketChannel silent = SocketChannel.open(victim);
        Thread.sleep(100);

        List<Collective> ring = Rings.onAllRanks(n, r -> listeners.get(r).join(r, n, peers, secret));
        try {
            List<float[]> sums = honestSum(ring, 1001);
            for (int r = 0; r < n; r++) {
                for (int i = 0; i < 1001; i++) {
                    assertEquals(300 + 3 * (i % 13), sums.get(r)[i], 0f, "rank " + r + " element " + i);
                }
            }
            Outcome g = garbage.get(10, TimeUnit.SECONDS);
            Outcome f = forger.get(10, TimeUnit.SECONDS);
            assertTrue(g.closedByRank());
            assertEquals(0, f.bytesReceived(), "the forger must not receive the rank's proof");
            assertTrue(
                    listeners.get(1).refusedConnections() >= 2,
                    "refused " + listeners.get(1).refusedConnections());
            assertThrows(
                    ConnectException.class,
                    () -> SocketChannel.open(victim).close(),
                    "the listener closes once the ring is formed");
        } finally {
            silent.close();
            Rings.closeAll(ring);
        }
    }

    @Test
    void aRankWithAWrongSecretCannotJoinAndBothSidesFailNamingThePeer() throws Exception {
        // generous connect/handshake windows: under a loaded machine a 1.5 s window once expired before the refusal
        CollectiveOptions options = Rings.FAST.withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(10));
        List<Collective.Listener> listeners =
                List.of(Collective.listen(Rings.LOOPBACK, options), Collective.listen(Rings.LOOPBACK, options));
        List<InetSocketAddress> peers =
                listeners.stream().map(Collective.Listener::address).toList();
        byte[] good = Secrets.newJobSecret();
        byte[] wrong = Secrets.newJobSecret();
        List<String> errors = Rings.onAllRanks(
                2,
                r -> assertThrows(
                                CollectiveException.class,
                                () -> listeners.get(r).join(r, 2, peers, r == 0 ? good : wrong))
                        .getMessage());
        assertTrue(
                errors.get(0).startsWith("rank 0: ")
                        && errors.get(0).contains("rank 1 (" + Link.hostPort(peers.get(1)) + ")"),
                errors.get(0));
        assertTrue(
                errors.get(1).startsWith("rank 1: ")
                        && errors.get(1).contains("rank 0 (" + Link.hostPort(peers.get(0)) + ")"),
                errors.get(1));
        // The first side to refuse fails its join, which closes its listener; the other side's accepting thread may
        // then find the connection already gone before it can refuse it. So at least one side refused (the join
        // failed by authentication, not by a timeout) and neither accepted anything.
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (listeners.get(0).refusedConnections() + listeners.get(1).refusedConnections() < 1
                && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        long refused0 = listeners.get(0).refusedConnections();
        long refused1 = listeners.get(1).refusedConnections();
        assertTrue(
                refused0 + refused1 >= 1 && refused0 <= 1 && refused1 <= 1,
                "refusals by rank 0 and rank 1: " + refused0 + ", " + refused1);
        for (String e : errors) {
            assertFalse(e.contains("timed out"), "failed by authentication, not by waiting: " + e);
        }
    }

    @Test
    void aListenerRefusesToBindTheWildcardAddress() throws Exception {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> Collective.listen(InetAddress.getByName("0.0.0.0"), Rings.FAST));
        assertTrue(e.getMessage().contains("own address"), e.getMessage());
    }

    @Test
    void aShortSecretIsRejected() throws Exception {
        try (Collective.Listener l = Collective.listen(Rings.LOOPBACK, Rings.FAST)) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> l.join(0, 1, List.of(l.address()), new byte[8]));
            assertTrue(e.getMessage().contains("at least 16 bytes"), e.getMessage());
        }
    }

    @Test
    void jobSecretsAreFreshAnd32BytesLong() {
        byte[] a = Secrets.newJobSecret();
        byte[] b = Secrets.newJobSecret();
        assertEquals(32, a.length);
        assertTrue(!java.util.Arrays.equals(a, b));
    }
}
