package io.sparkformers.distributed;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Collective operations between N model replicas (ranks) over a ring of authenticated TCP connections: rank r
 * connects to its right neighbour r+1 and accepts its left neighbour r−1 (mod N); data only flows rightwards.
 * The public face of three roles, one class each, as PyTorch c10d separates them: the rendezvous
 * ({@link RingRendezvous}: how ranks find each other and authenticate), the transport ({@link RingTransport}:
 * framing, the neighbour links, deadlines, failure handling) and the algorithms ({@link RingAlgorithms}: ring
 * all-reduce, broadcast, all-gather). Barrier and the checksum checks are built here on the all-gather.
 *
 * <p>{@link #allReduce(ByteBuffer)} is the bandwidth-optimal ring all-reduce of Patarasuk &amp; Yuan (2009), as in
 * Baidu's ring-allreduce, Horovod and NCCL: each rank sends and receives 2(N−1)/N·S floats for S floats, independent
 * of N, in segments ({@link CollectiveOptions#segmentBytes()}) so that send, receive and summation overlap. Every
 * chunk is summed once, by its owner, in a fixed order, and then copied: all ranks end with bit-identical bytes.
 *
 * <p>Rendezvous, as a Spark barrier task does it: every rank first {@link #listen}s on its own host address (an
 * ephemeral port), publishes {@link Listener#address()} (e.g. through {@code BarrierTaskContext.allGather}), then
 * calls {@link Listener#join} with the full address list and the job secret ({@link Secrets#newJobSecret()}).
 * Every connection is authenticated (mutual HMAC-SHA256, {@link Handshake}) before any tensor byte is accepted.
 *
 * <p>Liveness: connecting, accepting, each handshake and each frame read or write has a deadline
 * ({@link CollectiveOptions}); a failed operation closes this rank's connections after telling its right
 * neighbour why, so the failure travels round the ring and every rank fails promptly with an error naming the
 * rank (and host:port) that failed first. A failed collective stays closed.
 *
 * <p>Buffers hold little-endian float32 (DJL's {@code toByteBuffer()} layout on x86/ARM); direct buffers are
 * sent and received without copies. Operations are called by one thread at a time, in the same order, with the
 * same sizes, on every rank; a mismatch is detected (each frame carries its operation number and length).
 */
public final class Collective implements AutoCloseable {
    private final RingTransport transport;
    private final RingAlgorithms algorithms;

    private Collective(RingTransport transport) {
        this.transport = transport;
        this.algorithms = new RingAlgorithms(transport);
    }

    /** Opens this rank's listening socket on {@code host} (never the wildcard address) at an ephemeral port. */
    public static Listener listen(InetAddress host, CollectiveOptions options) throws IOException {
        return listen(new InetSocketAddress(host, 0), options);
    }

    /** Opens this rank's listening socket at {@code bind} (port 0: ephemeral); the wildcard address is refused. */
    public static Listener listen(InetSocketAddress bind, CollectiveOptions options) throws IOException {
        return new Listener(RingRendezvous.listen(bind, options));
    }

    /**
     * Listens at {@code peers.get(rank)} (a fixed port) and joins the ring: for callers that assign ports
     * up front. The two-step {@link #listen} / {@link Listener#join} avoids port clashes.
     */
    public static Collective connect(
            int rank, int worldSize, List<InetSocketAddress> peers, byte[] secret, CollectiveOptions options)
            throws IOException {
        if (rank < 0 || rank >= peers.size()) {
            throw new IllegalArgumentException("rank " + rank + " is outside 0.." + (peers.size() - 1));
        }
        try (Listener listener = listen(peers.get(rank), options)) {
            return listener.join(rank, worldSize, peers, secret);
        }
    }

    /**
     * A rank's listening socket, open before the ring forms so that its address can be published first.
     * It accepts only the authenticated left neighbour and closes once the ring is formed.
     */
    public static final class Listener implements AutoCloseable {
        private final RingRendezvous rendezvous;

        private Listener(RingRendezvous rendezvous) {
            this.rendezvous = rendezvous;
        }

        /** The host:port to publish to the other ranks. */
        public InetSocketAddress address() {
            return rendezvous.address();
        }

        /** Connections refused so far because they failed authentication or broke the protocol. */
        public int refusedConnections() {
            return rendezvous.refusedConnections();
        }

        /**
         * Forms the ring: connects to and authenticates the right neighbour while accepting and authenticating
         * the left one, all within {@link CollectiveOptions#connectTimeout()}; then closes this listener.
         *
         * @param peers every rank's published listening address, indexed by rank ({@code peers.get(rank)} is
         *     this listener's address)
         * @param secret the job secret (at least 16 bytes), the same on every rank
         * @throws CollectiveException naming the neighbour that did not connect, authenticate or answer
         */
        public Collective join(int rank, int worldSize, List<InetSocketAddress> peers, byte[] secret)
                throws CollectiveException {
            RingTransport transport = rendezvous.join(rank, worldSize, peers, secret);
            try {
                return new Collective(transport);
            } catch (RuntimeException | Error e) {
                transport.close();
                throw e;
            }
        }

        @Override
        public void close() {
            rendezvous.close();
        }
    }

    public int rank() {
        return transport.rank();
    }

    public int worldSize() {
        return transport.worldSize();
    }

    /** Every rank's listening address, indexed by rank. */
    public List<InetSocketAddress> peers() {
        return transport.peers();
    }

    /**
     * In-place sum over all ranks of the little-endian float32 values in {@code data}'s remaining bytes
     * (position..limit, a multiple of 4; position and limit are left unchanged). Every rank passes the same
     * number of floats; afterwards every rank holds bit-identical sums.
     */
    public void allReduce(ByteBuffer data) throws CollectiveException {
        checkFloats(data);
        transport.run("allReduce", () -> {
            algorithms.allReduce(data, false);
            return null;
        });
    }

    /**
     * {@link #allReduce(ByteBuffer)} with every sum divided by {@link #worldSize()}: the same bytes on all ranks as
     * summing and then dividing, but each chunk's owner divides its finished sums before the all-gather, so every
     * rank divides 1/N of the buffer, in the same pass as its last addition, rather than all of it afterwards.
     */
    public void allReduceAverage(ByteBuffer data) throws CollectiveException {
        checkFloats(data);
        transport.run("allReduceAverage", () -> {
            algorithms.allReduce(data, true);
            return null;
        });
    }

    /**
     * The first half of {@link #allReduce(ByteBuffer)} (the ring's reduce-scatter): afterwards the floats
     * {@link #ownedRange} of {@code data} hold the sums over all ranks, the same bits an all-reduce gives; the rest
     * holds partial sums. Each rank sends and receives (N−1)/N·S floats.
     */
    public void reduceScatter(ByteBuffer data) throws CollectiveException {
        checkFloats(data);
        transport.run("reduceScatter", () -> {
            algorithms.reduceScatter(data, false, false);
            return null;
        });
    }

    /**
     * The second half of {@link #allReduce(ByteBuffer)} on its own: every rank's floats {@link #ownedRange} of
     * {@code data} are copied into every other rank's {@code data} (same length everywhere).
     */
    public void allGather(ByteBuffer data) throws CollectiveException {
        checkFloats(data);
        transport.run("allGather", () -> {
            algorithms.allGather(data, true);
            return null;
        });
    }

    /**
     * The floats [from, to) of a buffer of {@code count} floats that this rank finishes in {@link #reduceScatter}
     * and sends in {@link #allGather(ByteBuffer)}: chunk rank+1 (mod N) of N chunks whose sizes differ by at most one.
     */
    public long[] ownedRange(long count) {
        return RingAlgorithms.ownedChunk(rank(), worldSize(), count);
    }

    /** In-place sum of a float array over all ranks (copies through a direct buffer). */
    public void allReduce(float[] data) throws CollectiveException {
        ByteBuffer buf =
                ByteBuffer.allocateDirect(Math.multiplyExact(data.length, 4)).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(data);
        allReduce(buf);
        buf.asFloatBuffer().get(data);
    }

    /**
     * Copies {@code root}'s remaining bytes of {@code data} into every other rank's {@code data} (the same length
     * everywhere): a pipelined chain root → root+1 → … → root−1, segment by segment, so it costs about
     * S/B + (N−2)·segment/B rather than (N−1)·S/B.
     */
    public void broadcast(ByteBuffer data, int root) throws CollectiveException {
        if (root < 0 || root >= worldSize()) {
            throw new IllegalArgumentException("broadcast root " + root + " is outside 0.." + (worldSize() - 1));
        }
        transport.run("broadcast from rank " + root, () -> {
            algorithms.broadcast(data, root);
            return null;
        });
    }

    /** Returns when every rank has entered the barrier. */
    public void barrier() throws CollectiveException {
        long mine = transport.seq() + 1;
        long[] all = allGather(mine);
        for (int r = 0; r < all.length; r++) {
            if (all[r] != mine) {
                throw new CollectiveException("rank " + rank() + ": barrier reached by rank " + r + " at operation #"
                        + all[r] + " but by this rank at #" + mine + ": ranks run different collectives");
            }
        }
    }

    /** Every rank's {@code value}, indexed by rank (a ring all-gather of 8-byte slots). */
    public long[] allGather(long value) throws CollectiveException {
        return transport.run("allGather", () -> algorithms.allGather(value));
    }

    /** Wrapping sum over ranks (rank order) of a replica checksum; the same on every rank. */
    public long allReduceChecksum(long checksum) throws CollectiveException {
        long sum = 0;
        for (long v : allGather(checksum)) {
            sum += v;
        }
        return sum;
    }

    /** Sum over ranks of {@code value}, added in rank order so every rank gets the same double. */
    public double allReduceChecksum(double value) throws CollectiveException {
        double sum = 0;
        for (long bits : allGather(Double.doubleToRawLongBits(value))) {
            sum += Double.longBitsToDouble(bits);
        }
        return sum;
    }

    /**
     * Replica consistency check: throws on every rank if any rank's {@code checksum} of {@code what} (e.g. a hash
     * of the weights) differs from rank 0's, naming the ranks that differ. The collective stays usable.
     */
    public void requireSameOnAllRanks(long checksum, String what) throws CollectiveException {
        long[] all = allGather(checksum);
        StringBuilder diff = new StringBuilder();
        for (int r = 1; r < all.length; r++) {
            if (all[r] != all[0]) {
                diff.append(", rank ").append(r).append(" = ").append(Long.toHexString(all[r]));
            }
        }
        if (diff.length() > 0) {
            throw new CollectiveException("rank " + rank() + ": replicas disagree on " + what + ": rank 0 = "
                    + Long.toHexString(all[0]) + diff);
        }
    }

    /** Closes the connections; peers then fail their next (or current) operation promptly, naming this rank. */
    @Override
    public void close() {
        transport.close();
    }

    private static void checkFloats(ByteBuffer data) {
        if (data.remaining() % 4 != 0) {
            throw new IllegalArgumentException("a float32 buffer needs a multiple of 4 bytes, got " + data.remaining());
        }
        if (data.isReadOnly()) {
            throw new IllegalArgumentException("all-reduce works in place: the buffer is read-only");
        }
    }

    @Override
    public String toString() {
        return "Collective[rank " + rank() + " of " + worldSize() + " at " + Link.hostPort(peers().get(rank())) + "]";
    }
}
