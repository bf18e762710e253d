package io.sparkformers.distributed;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transport of a formed ring (c10d's role of a process group's connections, below its algorithms): the frames a
 * rank receives from its left neighbour and sends, through a {@link Sender} thread, to its right one; the deadline
 * of every frame ({@link CollectiveOptions#opTimeout()}); and failure handling. Each operation runs in
 * {@link #run}: one at a time, numbered, and every frame carries that number and its length, so ranks out of step
 * are caught. A failed operation tells the right neighbour why (an abort frame), closes both links and leaves the
 * transport closed, so the failure travels round the ring and every rank fails naming the rank that failed first.
 *
 * <p>Frame layout and abort notices: see {@link Sender}; on encrypted links every payload is opened (its tag checked
 * against the header and the frame counter) before any of its bytes reach the caller ({@link FrameCipher}). A ring of one rank has no links; its algorithms never send.
 */
final class RingTransport implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Collective.class); // the category users configure
    private static final long ABORT_GRACE_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** One operation's frames; its I/O errors and runtime failures become the operation's failure. */
    interface Body<T> {
        T run() throws IOException;
    }

    private final int rank;
    private final int worldSize;
    private final List<InetSocketAddress> peers;
    private final CollectiveOptions options;
    private final Link in;
    private final Link out;
    private final Sender sender;
    private final ByteBuffer header = ByteBuffer.allocateDirect(Sender.HEADER_BYTES);
    private final FrameCipher opener;
    private final ByteBuffer sealedIn;
    private final ReentrantLock opLock = new ReentrantLock();
    private final Link.Guard guard;
    private long seq;
    private volatile boolean closed;
    private volatile String failedWith;

    /** Takes over {@code in} (from the left neighbour) and {@code out} (to the right); both null for one rank. */
    RingTransport(int rank, List<InetSocketAddress> peers, CollectiveOptions options, Link in, Link out) {
        this.rank = rank;
        this.worldSize = peers.size();
        this.peers = List.copyOf(peers);
        this.options = options;
        this.in = in;
        this.out = out;
        this.sender = out == null
                ? null
                : new Sender(
                        out,
                        options.opTimeout().toNanos(),
                        options.segmentBytes(),
                        "sparkformers-collective-send-r" + rank,
                        in::wakeup);
        FrameCipher inCipher = in == null ? null : in.cipher();
        this.opener = inCipher;
        this.sealedIn = inCipher == null
                ? null
                : ByteBuffer.allocateDirect(
                        Math.max(options.segmentBytes(), Sender.MAX_ABORT_BYTES) + FrameCipher.TAG_BYTES);
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

    int rank() {
        return rank;
    }

    int worldSize() {
        return worldSize;
    }

    List<InetSocketAddress> peers() {
        return peers;
    }

    CollectiveOptions options() {
        return options;
    }

    /** The number of the operation running now, or of the last one. */
    long seq() {
        return seq;
    }

    /**
     * Runs one operation under the operation lock with the next operation number; a failure closes this transport
     * after telling the right neighbour, and is rethrown as a {@link CollectiveException} naming this rank, its
     * address and the operation ({@link CollectiveTimeoutException} when a deadline passed).
     */
    <T> T run(String name, Body<T> body) throws CollectiveException {
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

    /** Queues {@code payload} (position..limit) as one data frame of this operation; unchanged until {@link #flush}. */
    void send(ByteBuffer payload) throws IOException {
        sender.send(seq, payload);
    }

    /** Waits until every queued frame is written. */
    void flush() throws IOException {
        sender.awaitIdle(guard);
    }

    /**
     * Reads one data frame of this operation from the left neighbour into {@code dst} (exactly its remaining bytes),
     * after checking its type, operation number and length; an abort frame fails with the neighbour's reason.
     */
    void receive(ByteBuffer dst, String what) throws IOException {
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
            readPayload(message, deadline, "an abort notice");
            throw new IOException(in.peer() + " aborted: " + new String(message.array(), StandardCharsets.UTF_8));
        }
        if (type != Sender.DATA) {
            throw new IOException("protocol error: " + in.peer() + " sent frame type 0x" + Integer.toHexString(type));
        }
        if (frameSeq != seq || length != dst.remaining()) {
            throw new IOException(in.peer() + " is out of step: expected a frame of op #" + seq + " with "
                    + dst.remaining() + " bytes (" + what + "), got op #" + frameSeq + " with " + length
                    + " bytes; every rank must run the same collectives on buffers of the same size"
                    + (opener == null ? "" : " (or the frame header was altered in transit)"));
        }
        readPayload(dst, deadline, what);
    }

    /** Reads the payload of the frame whose header is in {@link #header} into {@code dst}, opening it if sealed. */
    private void readPayload(ByteBuffer dst, long deadline, String what) throws IOException {
        if (opener == null) {
            in.readFully(dst, deadline, what, guard);
            return;
        }
        sealedIn.clear().limit(dst.remaining() + FrameCipher.TAG_BYTES);
        in.readFully(sealedIn, deadline, what, guard);
        sealedIn.flip();
        header.rewind();
        opener.open(header, sealedIn, dst, in.peer());
    }

    /** Closes the links; peers then fail their next (or current) operation promptly, naming this rank. */
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

    private CollectiveException fail(String name, Exception e) {
        boolean closedHere = closed;
        String why = closedHere ? "this rank's collective was closed" : e.getMessage();
        String message = "rank " + rank + " (" + Link.hostPort(peers.get(rank)) + "): " + name + " (op #" + seq
                + ") failed: " + why;
        failedWith = message;
        if (!closedHere) {
            LOG.warn(message);
            closed = true;
            if (sender != null) {
                sender.abort(
                        message, Math.min(ABORT_GRACE_NANOS, options.opTimeout().toNanos()));
            }
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
}
