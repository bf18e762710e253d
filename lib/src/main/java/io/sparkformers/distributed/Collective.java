package io.sparkformers.distributed;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Collective operations between N model replicas (ranks) over a ring of authenticated TCP connections: rank r
 * connects to its right neighbour r+1 and accepts its left neighbour r−1 (mod N); data only flows rightwards.
 *
 * <p>{@link #allReduce(ByteBuffer)} is the bandwidth-optimal ring all-reduce of Patarasuk &amp; Yuan (2009), as in
 * Baidu's ring-allreduce, Horovod and NCCL: the buffer of S floats is cut into N chunks of ≈S/N; a reduce-scatter
 * of N−1 steps leaves rank r owning the full sum of chunk r+1, then an all-gather of N−1 steps copies every owned
 * chunk to every rank. Each rank sends and receives 2(N−1)/N·S floats, independent of N. Chunks travel in
 * segments ({@link CollectiveOptions#segmentBytes()}) and a dedicated sender thread forwards segment j while the
 * caller receives segment j+1, so send, receive and summation overlap. Every chunk is summed once, by its owner,
 * in a fixed order (starting at rank c for chunk c and adding ranks c+1, c+2, … in turn), and then copied: all
 * ranks end with bit-identical bytes.
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
    private static final Logger LOG = LoggerFactory.getLogger(Collective.class);
    private static final int MAX_PENDING_HANDSHAKES = 16;
    private static final long ABORT_GRACE_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final int rank;
    private final int worldSize;
    private final List<InetSocketAddress> peers;
    private final CollectiveOptions options;
    private final Link in;
    private final Link out;
    private final Sender sender;
    private final ByteBuffer header = ByteBuffer.allocateDirect(Sender.HEADER_BYTES);
    private final ByteBuffer scratch;
    private final ReentrantLock opLock = new ReentrantLock();
    private final Link.Guard guard;
    private long seq;
    private volatile boolean closed;
    private volatile String failedWith;

    private Collective(int rank, List<InetSocketAddress> peers, CollectiveOptions options, Link in, Link out) {
        this.rank = rank;
        this.worldSize = peers.size();
        this.peers = List.copyOf(peers);
        this.options = options;
        this.in = in;
        this.out = out;
        this.scratch = worldSize > 1 ? ByteBuffer.allocateDirect(options.segmentBytes()) : null;
        this.sender = out == null ? null : new Sender(out, options.opTimeout().toNanos(),
                "sparkformers-collective-send-r" + rank, in::wakeup);
        this.guard = () -> {
            if (closed) {
                throw new ClosedChannelException();
            }
            IOException f = sender.failure();
            if (f != null) {
                throw new IOException(f.getMessage(), f);
            }
        };
    }

    /** Opens this rank's listening socket on {@code host} (never the wildcard address) at an ephemeral port. */
    public static Listener listen(InetAddress host, CollectiveOptions options) throws IOException {
        return listen(new InetSocketAddress(host, 0), options);
    }

    /** Opens this rank's listening socket at {@code bind} (port 0: ephemeral); the wildcard address is refused. */
    public static Listener listen(InetSocketAddress bind, CollectiveOptions options) throws IOException {
        if (bind.isUnresolved() || bind.getAddress().isAnyLocalAddress()) {
            throw new IllegalArgumentException("a collective listens on this host's own address, not on " + bind
                    + ": pass the executor's address (e.g. 127.0.0.1 in local mode)");
        }
        ServerSocketChannel server = ServerSocketChannel.open();
        try {
            if (options.socketBufferBytes() > 0) {
                server.setOption(StandardSocketOptions.SO_RCVBUF, options.socketBufferBytes());
            }
            server.bind(bind, MAX_PENDING_HANDSHAKES);
            return new Listener(server, options);
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot listen on " + Link.hostPort(bind) + ": " + e.getMessage(), e);
        }
    }

    /**
     * Listens at {@code peers.get(rank)} (a fixed port) and joins the ring: for callers that assign ports
     * up front. The two-step {@link #listen} / {@link Listener#join} avoids port clashes.
     */
    public static Collective connect(int rank, int worldSize, List<InetSocketAddress> peers, byte[] secret,
            CollectiveOptions options) throws IOException {
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
        private final ServerSocketChannel server;
        private final InetSocketAddress address;
        private final CollectiveOptions options;
        private final AtomicInteger refused = new AtomicInteger();
        private volatile Selector acceptSelector;

        private Listener(ServerSocketChannel server, CollectiveOptions options) throws IOException {
            this.server = server;
            this.address = (InetSocketAddress) server.getLocalAddress();
            this.options = options;
        }

        /** The host:port to publish to the other ranks. */
        public InetSocketAddress address() {
            return address;
        }

        /** Connections refused so far because they failed authentication or broke the protocol. */
        public int refusedConnections() {
            return refused.get();
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
            if (worldSize < 1 || peers.size() != worldSize) {
                throw new IllegalArgumentException("worldSize " + worldSize + " but " + peers.size() + " peer addresses");
            }
            if (rank < 0 || rank >= worldSize) {
                throw new IllegalArgumentException("rank " + rank + " is outside 0.." + (worldSize - 1));
            }
            if (secret == null || secret.length < Secrets.MIN_SECRET_BYTES) {
                throw new IllegalArgumentException("the job secret must have at least " + Secrets.MIN_SECRET_BYTES
                        + " bytes (use Secrets.newJobSecret())");
            }
            InetSocketAddress mine = peers.get(rank);
            if (mine.getPort() != address.getPort() || !address.getAddress().equals(mine.getAddress())) {
                throw new IllegalArgumentException("peers[" + rank + "] = " + mine + " but this rank listens at "
                        + Link.hostPort(address));
            }
            try (this) {
                if (worldSize == 1) {
                    return new Collective(rank, peers, options, null, null);
                }
                return formRing(rank, worldSize, peers, secret.clone());
            }
        }

        private Collective formRing(int rank, int n, List<InetSocketAddress> peers, byte[] secret)
                throws CollectiveException {
            int left = Math.floorMod(rank - 1, n);
            int right = Math.floorMod(rank + 1, n);
            long start = System.nanoTime();
            long deadline = start + options.connectTimeout().toNanos();
            CompletableFuture<Link> fromLeft = new CompletableFuture<>();
            Thread acceptor = new Thread(() -> acceptLoop(rank, left, n, peers.get(left), secret, deadline, fromLeft),
                    "sparkformers-collective-accept-r" + rank);
            acceptor.setDaemon(true);
            acceptor.start();
            Link toRight = null;
            Collective formed = null;
            try {
                toRight = connectRight(rank, right, n, peers.get(right), secret, deadline);
                Link leftLink = fromLeft.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                formed = new Collective(rank, peers, options, leftLink, toRight);
                return formed;
            } catch (TimeoutException e) {
                throw new CollectiveTimeoutException("rank " + rank + ": " + Link.describe(left, peers.get(left))
                        + " did not connect and authenticate within " + options.connectTimeout().toMillis() + " ms"
                        + refusedNote(), e);
            } catch (ExecutionException e) {
                throw new CollectiveException("rank " + rank + ": accepting " + Link.describe(left, peers.get(left))
                        + " failed: " + e.getCause().getMessage(), e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CollectiveException("rank " + rank + ": interrupted while forming the ring", e);
            } finally {
                closeQuietly();
                if (formed == null) {
                    if (toRight != null) {
                        toRight.close();
                    }
                    if (!fromLeft.cancel(false) && !fromLeft.isCompletedExceptionally()) {
                        fromLeft.join().close();
                    }
                }
            }
        }

        private String refusedNote() {
            int r = refused.get();
            return r == 0 ? "" : " (refused " + r + " unauthenticated connection(s) meanwhile)";
        }

        private Link connectRight(int rank, int right, int n, InetSocketAddress target, byte[] secret, long deadline)
                throws CollectiveException {
            String peer = Link.describe(right, target);
            IOException last = null;
            while (true) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new CollectiveTimeoutException("rank " + rank + ": could not connect to " + peer + " within "
                            + options.connectTimeout().toMillis() + " ms" + (last == null ? "" : ": " + last.getMessage()),
                            last);
                }
                SocketChannel ch = null;
                try {
                    ch = SocketChannel.open();
                    Link.tune(ch, options.socketBufferBytes());
                    ch.socket().connect(target, (int) Math.max(1, Math.min(Integer.MAX_VALUE,
                            TimeUnit.NANOSECONDS.toMillis(left))));
                    Link link = new Link(ch, right, target);
                    try {
                        Handshake.connect(link, secret, rank, right, n, deadline);
                    } catch (IOException e) {
                        link.close();
                        throw e;
                    }
                    return link;
                } catch (ConnectException e) {
                    closeChannel(ch);
                    last = e;
                    sleepMillis(Math.min(100, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
                } catch (SocketTimeoutException e) {
                    closeChannel(ch);
                    throw new CollectiveTimeoutException("rank " + rank + ": could not connect and authenticate with "
                            + peer + " within " + options.connectTimeout().toMillis() + " ms: " + e.getMessage(), e);
                } catch (IOException e) {
                    closeChannel(ch);
                    throw new CollectiveException("rank " + rank + ": joining the ring through " + peer + " failed: "
                            + e.getMessage(), e);
                }
            }
        }

        /** Accepts connections until the left neighbour authenticates; impostors are refused, logged, closed. */
        private void acceptLoop(int rank, int left, int n, InetSocketAddress leftAddress, byte[] secret, long deadline,
                CompletableFuture<Link> result) {
            Semaphore slots = new Semaphore(MAX_PENDING_HANDSHAKES);
            try (Selector selector = Selector.open()) {
                acceptSelector = selector;
                server.configureBlocking(false);
                server.register(selector, SelectionKey.OP_ACCEPT);
                while (!result.isDone() && server.isOpen()) {
                    long remaining = deadline - System.nanoTime();
                    if (remaining <= 0) {
                        return;
                    }
                    selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(remaining)));
                    selector.selectedKeys().clear();
                    SocketChannel ch;
                    while (!result.isDone() && (ch = server.accept()) != null) {
                        InetSocketAddress from = (InetSocketAddress) ch.getRemoteAddress();
                        if (!slots.tryAcquire()) {
                            refuse(rank, from, "too many connections are still authenticating");
                            closeChannel(ch);
                            continue;
                        }
                        SocketChannel accepted = ch;
                        Thread t = new Thread(() -> {
                            try {
                                authenticateLeft(accepted, from, rank, left, n, leftAddress, secret, deadline, result);
                            } finally {
                                slots.release();
                            }
                        }, "sparkformers-collective-handshake-r" + rank);
                        t.setDaemon(true);
                        t.start();
                    }
                }
            } catch (ClosedChannelException | ClosedSelectorException e) {
                // the listener was closed: the ring formed, or joining gave up
            } catch (IOException e) {
                result.completeExceptionally(e);
            }
        }

        private void authenticateLeft(SocketChannel ch, InetSocketAddress from, int rank, int left, int n,
                InetSocketAddress leftAddress, byte[] secret, long deadline, CompletableFuture<Link> result) {
            Link link = null;
            try {
                Link.tune(ch, options.socketBufferBytes());
                link = new Link(ch, -1, from);
                long handshakeDeadline = Math.min(deadline, System.nanoTime() + options.handshakeTimeout().toNanos());
                Handshake.accept(link, secret, rank, left, n, handshakeDeadline);
                link.identify(left, leftAddress);
                if (!result.complete(link)) {
                    link.close();
                }
            } catch (IOException | RuntimeException e) {
                refuse(rank, from, e.getMessage());
                if (link != null) {
                    link.close();
                } else {
                    closeChannel(ch);
                }
            }
        }

        private void refuse(int rank, InetSocketAddress from, String why) {
            refused.incrementAndGet();
            LOG.warn("rank {}: refused collective connection from {}: {}", rank, Link.hostPort(from), why);
        }

        private void closeQuietly() {
            closeChannel(server);
            Selector s = acceptSelector;
            if (s != null) {
                s.wakeup();
            }
        }

        @Override
        public void close() {
            closeQuietly();
        }
    }

    public int rank() {
        return rank;
    }

    public int worldSize() {
        return worldSize;
    }

    /** Every rank's listening address, indexed by rank. */
    public List<InetSocketAddress> peers() {
        return peers;
    }

    /**
     * In-place sum over all ranks of the little-endian float32 values in {@code data}'s remaining bytes
     * (position..limit, a multiple of 4; position and limit are left unchanged). Every rank passes the same
     * number of floats; afterwards every rank holds bit-identical sums.
     */
    public void allReduce(ByteBuffer data) throws CollectiveException {
        checkFloats(data);
        op("allReduce", () -> {
            ringAllReduce(data, false);
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
        op("allReduceAverage", () -> {
            ringAllReduce(data, true);
            return null;
        });
    }

    /** In-place sum of a float array over all ranks (copies through a direct buffer). */
    public void allReduce(float[] data) throws CollectiveException {
        ByteBuffer buf = ByteBuffer.allocateDirect(Math.multiplyExact(data.length, 4)).order(ByteOrder.LITTLE_ENDIAN);
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
        if (root < 0 || root >= worldSize) {
            throw new IllegalArgumentException("broadcast root " + root + " is outside 0.." + (worldSize - 1));
        }
        op("broadcast from rank " + root, () -> {
            ringBroadcast(data, root);
            return null;
        });
    }

    /** Returns when every rank has entered the barrier. */
    public void barrier() throws CollectiveException {
        long mine = seq + 1;
        long[] all = allGather(mine);
        for (int r = 0; r < worldSize; r++) {
            if (all[r] != mine) {
                throw new CollectiveException("rank " + rank + ": barrier reached by rank " + r + " at operation #"
                        + all[r] + " but by this rank at #" + mine + ": ranks run different collectives");
            }
        }
    }

    /** Every rank's {@code value}, indexed by rank (a ring all-gather of 8-byte slots). */
    public long[] allGather(long value) throws CollectiveException {
        return op("allGather", () -> ringAllGather(value));
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
        for (int r = 1; r < worldSize; r++) {
            if (all[r] != all[0]) {
                diff.append(", rank ").append(r).append(" = ").append(Long.toHexString(all[r]));
            }
        }
        if (diff.length() > 0) {
            throw new CollectiveException("rank " + rank + ": replicas disagree on " + what + ": rank 0 = "
                    + Long.toHexString(all[0]) + diff);
        }
    }

    /** Closes the connections; peers then fail their next (or current) operation promptly, naming this rank. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        closeLinks();
    }

    private void closeLinks() {
        if (sender != null) {
            sender.close();
        }
        if (in != null) {
            in.close();
        }
        if (out != null) {
            out.close();
        }
    }

    private interface Body<T> {
        T run() throws IOException;
    }

    private <T> T op(String name, Body<T> body) throws CollectiveException {
        opLock.lock();
        try {
            if (closed) {
                throw new CollectiveException("rank " + rank + ": " + name + " on a closed collective"
                        + (failedWith == null ? "" : "; it failed earlier: " + failedWith));
            }
            seq++;
            try {
                return body.run();
            } catch (IOException | RuntimeException e) {
                throw fail(name, e);
            }
        } finally {
            opLock.unlock();
        }
    }

    private CollectiveException fail(String name, Exception e) {
        boolean closedHere = closed;
        String why = closedHere ? "this rank's collective was closed" : e.getMessage();
        String message = "rank " + rank + " (" + Link.hostPort(peers.get(rank)) + "): " + name + " (op #" + seq
                + ") failed: " + why;
        failedWith = message;
        if (!closedHere) {
            LOG.warn(message);
            closed = true;
            sender.abort(message, Math.min(ABORT_GRACE_NANOS, options.opTimeout().toNanos()));
            closeLinks();
        }
        return isTimeout(e) ? new CollectiveTimeoutException(message, e) : new CollectiveException(message, e);
    }

    private static boolean isTimeout(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SocketTimeoutException) {
                return true;
            }
        }
        return false;
    }

    // --- algorithms -------------------------------------------------------------------------------------------

    /**
     * Reduce-scatter then all-gather over chunks c = [c·S/N, (c+1)·S/N) floats, S = remaining floats. At the last
     * reduce-scatter step the received partial sums complete chunk rank+1, which this rank then owns: with
     * {@code average} it divides them by N there, before they travel round the all-gather.
     */
    private void ringAllReduce(ByteBuffer data, boolean average) throws IOException {
        int base = data.position();
        int count = data.remaining() / 4;
        int n = worldSize;
        if (n == 1 || count == 0) {
            return;
        }
        int segFloats = options.segmentBytes() / 4;
        for (int step = 0; step < n - 1; step++) {
            if (step == 0) {
                int end = chunkStart(rank + 1, count);
                for (int off = chunkStart(rank, count); off < end; off += segFloats) {
                    sender.send(seq, data.slice(base + 4 * off, 4 * Math.min(segFloats, end - off)));
                }
            }
            int c = Math.floorMod(rank - step - 1, n);
            int end = chunkStart(c + 1, count);
            for (int off = chunkStart(c, count); off < end; off += segFloats) {
                int bytes = 4 * Math.min(segFloats, end - off);
                scratch.clear().limit(bytes);
                readFrame(scratch, "reduce-scatter step " + step);
                scratch.flip();
                ByteBuffer segment = data.slice(base + 4 * off, bytes);
                if (average && step == n - 2) {
                    addAndDivide(segment, scratch, n);
                } else {
                    add(segment, scratch);
                }
                sender.send(seq, segment);
            }
        }
        for (int step = 0; step < n - 1; step++) {
            int c = Math.floorMod(rank - step, n);
            int end = chunkStart(c + 1, count);
            for (int off = chunkStart(c, count); off < end; off += segFloats) {
                ByteBuffer segment = data.slice(base + 4 * off, 4 * Math.min(segFloats, end - off));
                readFrame(segment.duplicate(), "all-gather step " + step);
                if (step < n - 2) {
                    sender.send(seq, segment);
                }
            }
        }
        sender.awaitIdle(guard);
    }

    /** First float of chunk {@code c} (c may be N: the end): ⌊c·S/N⌋, so chunks differ in size by at most one. */
    private int chunkStart(int c, int count) {
        return (int) ((long) c * count / worldSize);
    }

    private void ringBroadcast(ByteBuffer data, int root) throws IOException {
        int n = worldSize;
        if (n == 1 || !data.hasRemaining()) {
            return;
        }
        int position = Math.floorMod(rank - root, n);
        int base = data.position();
        int total = data.remaining();
        int seg = options.segmentBytes();
        for (int off = 0; off < total; off += seg) {
            ByteBuffer segment = data.slice(base + off, Math.min(seg, total - off));
            if (position > 0) {
                readFrame(segment.duplicate(), "broadcast from rank " + root);
            }
            if (position < n - 1) {
                sender.send(seq, segment);
            }
        }
        sender.awaitIdle(guard);
    }

    private long[] ringAllGather(long value) throws IOException {
        int n = worldSize;
        ByteBuffer slots = ByteBuffer.allocateDirect(8 * n);
        slots.putLong(8 * rank, value);
        if (n > 1) {
            sender.send(seq, slots.slice(8 * rank, 8));
            for (int step = 0; step < n - 1; step++) {
                int c = Math.floorMod(rank - step - 1, n);
                ByteBuffer slot = slots.slice(8 * c, 8);
                readFrame(slot.duplicate(), "all-gather step " + step);
                if (step < n - 2) {
                    sender.send(seq, slot);
                }
            }
            sender.awaitIdle(guard);
        }
        long[] values = new long[n];
        for (int r = 0; r < n; r++) {
            values[r] = slots.getLong(8 * r);
        }
        return values;
    }

    /** Reads one frame from the left neighbour into {@code dst} (exactly its remaining bytes), after checks. */
    private void readFrame(ByteBuffer dst, String what) throws IOException {
        long deadline = System.nanoTime() + options.opTimeout().toNanos();
        header.clear();
        in.readFully(header, deadline, what, guard);
        header.flip();
        int type = header.getInt();
        int length = header.getInt();
        long frameSeq = header.getLong();
        if (type == Sender.ABORT) {
            if (length < 0 || length > Sender.MAX_ABORT_BYTES) {
                throw new IOException("protocol error: " + in.peer() + " sent an abort notice of " + length + " bytes");
            }
            ByteBuffer message = ByteBuffer.allocate(length);
            in.readFully(message, deadline, "an abort notice", guard);
            throw new IOException(in.peer() + " aborted: " + new String(message.array(), StandardCharsets.UTF_8));
        }
        if (type != Sender.DATA) {
            throw new IOException("protocol error: " + in.peer() + " sent frame type 0x" + Integer.toHexString(type));
        }
        if (frameSeq != seq || length != dst.remaining()) {
            throw new IOException(in.peer() + " is out of step: expected a frame of op #" + seq + " with "
                    + dst.remaining() + " bytes (" + what + "), got op #" + frameSeq + " with " + length
                    + " bytes; every rank must run the same collectives on buffers of the same size");
        }
        in.readFully(dst, deadline, what, guard);
    }

    /** segment[i] += addend[i] for little-endian float32 (both exactly the same length). */
    static void add(ByteBuffer segment, ByteBuffer addend) {
        FloatBuffer d = segment.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        FloatBuffer a = addend.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        int len = d.remaining();
        for (int i = 0; i < len; i++) {
            d.put(i, d.get(i) + a.get(i));
        }
    }

    /**
     * segment[i] = (segment[i] + addend[i]) / n. For a power of two n the division is a multiplication by the exact
     * reciprocal (the same correctly rounded result, without the divider's latency).
     */
    static void addAndDivide(ByteBuffer segment, ByteBuffer addend, int n) {
        FloatBuffer d = segment.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        FloatBuffer a = addend.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        int len = d.remaining();
        if (Integer.bitCount(n) == 1) {
            float reciprocal = 1f / n;
            for (int i = 0; i < len; i++) {
                d.put(i, (d.get(i) + a.get(i)) * reciprocal);
            }
        } else {
            float divisor = n;
            for (int i = 0; i < len; i++) {
                d.put(i, (d.get(i) + a.get(i)) / divisor);
            }
        }
    }

    private static void checkFloats(ByteBuffer data) {
        if (data.remaining() % 4 != 0) {
            throw new IllegalArgumentException("a float32 buffer needs a multiple of 4 bytes, got " + data.remaining());
        }
        if (data.isReadOnly()) {
            throw new IllegalArgumentException("all-reduce works in place: the buffer is read-only");
        }
    }

    private static void closeChannel(java.nio.channels.Channel ch) {
        if (ch == null) {
            return;
        }
        try {
            ch.close();
        } catch (IOException ignored) {
            // best effort
        }
    }

    private static void sleepMillis(long ms) {
        if (ms <= 0) {
            return;
        }
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "Collective[rank " + rank + " of " + worldSize + " at " + Link.hostPort(peers.get(rank)) + "]";
    }
}
