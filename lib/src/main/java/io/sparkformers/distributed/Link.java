package io.sparkformers.distributed;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;

/**
 * One authenticated TCP connection to a ring neighbour: a non-blocking {@link SocketChannel} with its own
 * {@link Selector}, so every read and write waits against a deadline (a blocking channel ignores SO_TIMEOUT) and
 * another thread can interrupt a wait with {@link #wakeup()}. Errors name the peer's rank and listening host:port.
 */
final class Link implements AutoCloseable {
    /** Checked after every wait: throws when the collective was closed or a sibling thread already failed. */
    interface Guard {
        void check() throws IOException;
    }

    private static final Guard NO_GUARD = () -> {};

    private volatile int peerRank;
    private volatile InetSocketAddress peerAddress;
    private final SocketChannel channel;
    private final Selector selector;
    private final SelectionKey key;
    private volatile FrameCipher cipher;

    Link(SocketChannel channel, int peerRank, InetSocketAddress peerAddress) throws IOException {
        this.channel = channel;
        this.peerRank = peerRank;
        this.peerAddress = peerAddress;
        channel.configureBlocking(false);
        this.selector = Selector.open();
        this.key = channel.register(selector, 0);
    }

    /** After authentication: errors name the peer by rank and published listening address. */
    void identify(int rank, InetSocketAddress listeningAddress) {
        this.peerAddress = listeningAddress;
        this.peerRank = rank;
    }

    /** After a handshake that agreed on encryption: every frame on this link is sealed with {@code frameCipher}. */
    void encryptWith(FrameCipher frameCipher) {
        this.cipher = frameCipher;
    }

    /** This link's frame cipher, or null when its frames travel in clear. */
    FrameCipher cipher() {
        return cipher;
    }

    /** "rank 2 (127.0.0.1:41234)", or "unauthenticated peer 127.0.0.1:53122" before {@link #identify}. */
    String peer() {
        return peerRank < 0 ? "unauthenticated peer " + hostPort(peerAddress) : describe(peerRank, peerAddress);
    }

    static String describe(int rank, InetSocketAddress address) {
        return "rank " + rank + " (" + hostPort(address) + ")";
    }

    static String hostPort(InetSocketAddress a) {
        return (a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString()) + ":" + a.getPort();
    }

    void readFully(ByteBuffer dst, long deadlineNanos, String what) throws IOException {
        readFully(dst, deadlineNanos, what, NO_GUARD);
    }

    /** Reads until {@code dst} is full; EOF, the deadline or the guard fail it with the peer named. */
    void readFully(ByteBuffer dst, long deadlineNanos, String what, Guard guard) throws IOException {
        while (dst.hasRemaining()) {
            int n = channel.read(dst);
            if (n < 0) {
                throw new EOFException(peer() + " closed the connection while this rank was receiving " + what);
            }
            if (n == 0) {
                await(
                        SelectionKey.OP_READ,
                        deadlineNanos,
                        "no data from " + peer() + " while receiving " + what,
                        guard);
            }
        }
    }

    void writeFully(ByteBuffer[] srcs, long deadlineNanos, String what, Guard guard) throws IOException {
        ByteBuffer last = srcs[srcs.length - 1];
        while (last.hasRemaining() || anyRemaining(srcs)) {
            long n;
            try {
                n = channel.write(srcs);
            } catch (IOException e) {
                throw new IOException("sending " + what + " to " + peer() + " failed: " + e.getMessage(), e);
            }
            if (n == 0) {
                await(SelectionKey.OP_WRITE, deadlineNanos, peer() + " accepted no data while sending " + what, guard);
            }
        }
    }

    void writeFully(ByteBuffer src, long deadlineNanos, String what) throws IOException {
        writeFully(new ByteBuffer[] {src}, deadlineNanos, what, NO_GUARD);
    }

    private static boolean anyRemaining(ByteBuffer[] bufs) {
        for (ByteBuffer b : bufs) {
            if (b.hasRemaining()) {
                return true;
            }
        }
        return false;
    }

    private void await(int op, long deadlineNanos, String stalled, Guard guard) throws IOException {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
            throw new SocketTimeoutException(stalled + " (timed out)");
        }
        key.interestOps(op);
        selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        selector.selectedKeys().clear();
        guard.check();
    }

    /** Interrupts a wait in another thread; that thread then runs its guard. */
    void wakeup() {
        selector.wakeup();
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing is best effort: the peer sees EOF or a reset either way
        }
        selector.wakeup();
        try {
            selector.close();
        } catch (IOException ignored) {
            // as above
        }
    }
}
