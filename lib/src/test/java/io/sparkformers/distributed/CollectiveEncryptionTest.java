package io.sparkformers.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Encrypted ring traffic ({@link CollectiveOptions#encrypt()}): the same bytes as in clear, nothing readable on the
 * wire, and a man in the middle who alters, replays or reorders a frame makes the receiving rank fail naming the
 * sender — never a silently wrong sum.
 */
class CollectiveEncryptionTest {
    private static final CollectiveOptions ENCRYPTED = Rings.FAST.withEncryption(true);
    private static final CollectiveOptions CLEAR = Rings.FAST.withEncryption(false);

    @Test
    void encryptedRingsGiveTheSameBytesAsClearOnesForOneToFourRanksAndAwkwardSizes() throws Exception {
        for (int n = 1; n <= 4; n++) {
            for (int size : new int[] {1, 3, 1023, 10_001}) {
                float[][] clear = allReduceAndBroadcast(n, size, CLEAR);
                float[][] encrypted = allReduceAndBroadcast(n, size, ENCRYPTED);
                for (int r = 0; r < n; r++) {
                    assertArrayEquals(clear[r], encrypted[r], n + " ranks, " + size + " floats, rank " + r);
                }
            }
        }
    }

    private static float[][] allReduceAndBroadcast(int n, int size, CollectiveOptions options) throws Exception {
        List<Collective> ring = Rings.form(n, Secrets.newJobSecret(), options);
        try {
            return Rings.onAllRanks(n, r -> {
                        Random random = new Random(31L * r + size);
                        float[] x = new float[size];
                        for (int i = 0; i < size; i++) {
                            x[i] = random.nextFloat() - 0.5f;
                        }
                        Collective c = ring.get(r);
                        c.allReduce(x);
                        ByteBuffer b = ByteBuffer.allocateDirect(4 * size).order(ByteOrder.LITTLE_ENDIAN);
                        b.asFloatBuffer().put(x);
                        c.broadcast(b, n - 1);
                        assertEquals(List.of(0L, 1L, 2L, 3L).subList(0, n), toList(c.allGather(r)));
                        float[] out = new float[2 * size];
                        System.arraycopy(x, 0, out, 0, size);
                        b.asFloatBuffer().get(out, size, size);
                        return out;
                    })
                    .toArray(new float[0][]);
        } finally {
            Rings.closeAll(ring);
        }
    }

    private static List<Long> toList(long[] values) {
        return Arrays.stream(values).boxed().toList();
    }

    @Test
    void noPlaintextTravelsOnAnEncryptedLinkWhileItDoesInClear() throws Exception {
        byte[] pattern = ByteBuffer.allocate(16)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putFloat(1234.5f)
                .putFloat(1234.5f)
                .putFloat(1234.5f)
                .putFloat(1234.5f)
                .array();
        assertTrue(contains(wireBytes(CLEAR), pattern), "control: the clear ring's bytes show the data");
        assertFalse(contains(wireBytes(ENCRYPTED), pattern), "the encrypted ring's bytes must not show the data");
    }

    /** What rank 0 sends rank 1 during an all-reduce of 8,192 copies of 1234.5 (after the handshake). */
    private static byte[] wireBytes(CollectiveOptions options) throws Exception {
        try (Tamperer proxy = new Tamperer(options.encrypt(), Tamper.NONE)) {
            List<String> errors = allReduceThrough(proxy, options);
            assertEquals(Arrays.asList(null, null), errors);
            return proxy.recorded();
        }
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    @Test
    void aFlippedPayloadByteFailsTheReceiverNamingTheSender() throws Exception {
        assertTamperCaught(Tamper.FLIP_PAYLOAD, "failed authentication");
    }

    @Test
    void aReplayedFrameFailsTheReceiverNamingTheSender() throws Exception {
        assertTamperCaught(Tamper.REPLAY, "failed authentication");
    }

    @Test
    void reorderedFramesFailTheReceiverNamingTheSender() throws Exception {
        assertTamperCaught(Tamper.SWAP, "failed authentication");
    }

    @Test
    void anAlteredFrameHeaderFailsTheReceiverNamingTheSender() throws Exception {
        assertTamperCaught(Tamper.FLIP_HEADER, "altered in transit");
    }

    private static void assertTamperCaught(Tamper tamper, String why) throws Exception {
        try (Tamperer proxy = new Tamperer(true, tamper)) {
            List<String> errors = allReduceThrough(proxy, ENCRYPTED);
            String receiver = errors.get(1);
            assertTrue(
                    receiver != null
                            && receiver.startsWith("rank 1 (")
                            && receiver.contains("rank 0 (" + Link.hostPort(proxy.ranks.get(0)) + ")")
                            && receiver.contains(why),
                    tamper + ": " + receiver);
            assertTrue(errors.get(0) != null && errors.get(0).contains("rank 1"), tamper + ": " + errors.get(0));
        }
    }

    /**
     * A 2-rank all-reduce in which rank 0 reaches rank 1 through {@code proxy}; the CollectiveException message of
     * each rank, or null where it succeeded (the sum then checked).
     */
    private static List<String> allReduceThrough(Tamperer proxy, CollectiveOptions options) throws Exception {
        List<Collective.Listener> listeners =
                List.of(Collective.listen(Rings.LOOPBACK, options), Collective.listen(Rings.LOOPBACK, options));
        List<InetSocketAddress> peers =
                listeners.stream().map(Collective.Listener::address).toList();
        proxy.forwardTo(peers);
        List<InetSocketAddress> viaProxy = List.of(peers.get(0), proxy.address());
        byte[] secret = Secrets.newJobSecret();
        return Rings.onAllRanks(2, r -> {
            float[] x = new float[8192];
            Arrays.fill(x, 1234.5f);
            try (Collective c = listeners.get(r).join(r, 2, r == 0 ? viaProxy : peers, secret)) {
                c.allReduce(x);
                for (float v : x) {
                    assertEquals(2469f, v, 0f);
                }
                return null;
            } catch (CollectiveException e) {
                return e.getMessage();
            }
        });
    }

    @Test
    void aFrameSealedUnderAnotherKeyIsRefusedNamingThePeer() throws Exception {
        byte[] nonceA = Secrets.nonce(32);
        byte[] nonceC = Secrets.nonce(32);
        byte[] secret = Secrets.newJobSecret();
        FrameCipher sender = FrameCipher.derive(secret, nonceA, nonceC, 0, 1, 2, true);
        FrameCipher receiver = FrameCipher.derive(secret, nonceA, nonceC, 0, 1, 2, false);
        FrameCipher stranger = FrameCipher.derive(Secrets.newJobSecret(), nonceA, nonceC, 0, 1, 2, false);
        ByteBuffer header = ByteBuffer.allocate(Sender.HEADER_BYTES)
                .putInt(Sender.DATA)
                .putInt(64)
                .putLong(1)
                .flip();
        ByteBuffer payload = ByteBuffer.allocate(64);
        new Random(3).nextBytes(payload.array());
        ByteBuffer sealed = ByteBuffer.allocate(64 + FrameCipher.TAG_BYTES);

        sender.seal(header, payload, sealed);
        ByteBuffer opened = ByteBuffer.allocate(64);
        receiver.open(header, sealed.duplicate(), opened, "rank 0 (127.0.0.1:1)");
        assertArrayEquals(payload.array(), opened.array(), "the connector's seal key is the acceptor's open key");

        sender.seal(header, payload, sealed);
        IOException e = assertThrows(
                IOException.class,
                () -> stranger.open(header, sealed.duplicate(), ByteBuffer.allocate(64), "rank 0 (127.0.0.1:1)"));
        assertTrue(
                e.getMessage().contains("from rank 0 (127.0.0.1:1) failed authentication")
                        && e.getMessage().contains("another key"),
                e.getMessage());
    }

    @Test
    void ranksThatDisagreeOnEncryptionFailTheJoinNamingThePeerAndTheSetting() throws Exception {
        CollectiveOptions fast = Rings.FAST.withTimeouts(Duration.ofSeconds(3), Duration.ofSeconds(3));
        List<Collective.Listener> listeners = List.of(
                Collective.listen(Rings.LOOPBACK, fast.withEncryption(true)),
                Collective.listen(Rings.LOOPBACK, fast.withEncryption(false)));
        List<InetSocketAddress> peers =
                listeners.stream().map(Collective.Listener::address).toList();
        byte[] secret = Secrets.newJobSecret();
        List<String> errors = Rings.onAllRanks(
                2,
                r -> assertThrows(
                                CollectiveException.class,
                                () -> listeners.get(r).join(r, 2, peers, secret))
                        .getMessage());
        // each rank connects to the other: the connector sees the acceptor's setting in its HELLO
        assertTrue(
                errors.get(0)
                        .contains(
                                "rank 1 (" + Link.hostPort(peers.get(1)) + ") sends ring traffic in clear but"
                                        + " this rank encrypts ring traffic: set CollectiveOptions.encrypt alike on every rank"),
                errors.get(0));
        assertTrue(
                errors.get(1)
                        .contains("rank 0 (" + Link.hostPort(peers.get(0)) + ") encrypts ring traffic but"
                                + " this rank sends ring traffic in clear"),
                errors.get(1));
    }

    private enum Tamper {
        NONE,
        FLIP_PAYLOAD,
        FLIP_HEADER,
        REPLAY,
        SWAP
    }

    /**
     * A man in the middle on the link rank 0 → rank 1: passes the handshake through, then parses rank 0's frames and
     * alters the third ({@link Tamper}); records what it forwarded after the handshake.
     */
    private static final class Tamperer implements AutoCloseable {
        private static final int VICTIM = 2;
        private final boolean sealed;
        private final Tamper tamper;
        private final ServerSocket server;
        private final ByteArrayOutputStream recorded = new ByteArrayOutputStream();
        private final List<Socket> sockets = new ArrayList<>();
        private volatile List<InetSocketAddress> ranks;

        Tamperer(boolean sealed, Tamper tamper) throws IOException {
            this.sealed = sealed;
            this.tamper = tamper;
            this.server = new ServerSocket(0, 1, Rings.LOOPBACK);
        }

        InetSocketAddress address() {
            return new InetSocketAddress(Rings.LOOPBACK, server.getLocalPort());
        }

        synchronized byte[] recorded() {
            return recorded.toByteArray();
        }

        void forwardTo(List<InetSocketAddress> ranks) {
            this.ranks = ranks;
            Thread t = new Thread(this::run, "tamperer");
            t.setDaemon(true);
            t.start();
        }

        private void run() {
            try {
                Socket fromRank0 = server.accept();
                Socket toRank1 =
                        new Socket(ranks.get(1).getAddress(), ranks.get(1).getPort());
                synchronized (sockets) {
                    sockets.add(fromRank0);
                    sockets.add(toRank1);
                }
                Thread back = new Thread(() -> pump(toRank1, fromRank0), "tamperer-back");
                back.setDaemon(true);
                back.start();
                forwardFrames(new DataInputStream(fromRank0.getInputStream()), toRank1.getOutputStream());
            } catch (IOException ignored) {
                // a rank closed its end: the test reads the ranks' errors
            }
        }

        private static void pump(Socket from, Socket to) {
            try {
                from.getInputStream().transferTo(to.getOutputStream());
            } catch (IOException ignored) {
                // as above
            }
        }

        private void forwardFrames(DataInputStream in, OutputStream out) throws IOException {
            byte[] auth = in.readNBytes(Handshake.AUTH_BYTES);
            out.write(auth);
            byte[] held = null;
            for (int frame = 0; ; frame++) {
                byte[] f = readFrame(in);
                synchronized (this) {
                    recorded.write(f);
                }
                if (frame == VICTIM) {
                    switch (tamper) {
                        case FLIP_PAYLOAD -> f[Sender.HEADER_BYTES + 5] ^= 1;
                        case FLIP_HEADER -> f[Sender.HEADER_BYTES - 1] ^= 1;
                        case REPLAY -> out.write(f);
                        case SWAP -> {
                            held = f;
                            continue;
                        }
                        case NONE -> {}
                    }
                }
                out.write(f);
                if (held != null) {
                    out.write(held);
                    held = null;
                }
                out.flush();
            }
        }

        private byte[] readFrame(InputStream in) throws IOException {
            byte[] header = in.readNBytes(Sender.HEADER_BYTES);
            if (header.length < Sender.HEADER_BYTES) {
                throw new IOException("closed");
            }
            int length = ByteBuffer.wrap(header).getInt(4) + (sealed ? FrameCipher.TAG_BYTES : 0);
            byte[] f = Arrays.copyOf(header, Sender.HEADER_BYTES + length);
            if (in.readNBytes(f, Sender.HEADER_BYTES, length) < length) {
                throw new IOException("closed");
            }
            return f;
        }

        @Override
        public void close() throws IOException {
            server.close();
            synchronized (sockets) {
                for (Socket s : sockets) {
                    s.close();
                }
            }
        }
    }
}
