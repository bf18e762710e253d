package io.sparkformers.distributed;

import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Objects;

/**
 * Timeouts and socket settings of a {@link Collective}: an immutable, validated value.
 *
 * @param connectTimeout time for the whole ring to form: connecting to the right neighbour and accepting the
 *     authenticated left neighbour (default 60 s)
 * @param opTimeout longest wait for one frame (one segment) to be read or written during an operation; a peer
 *     that stalls longer fails the operation (default 300 s)
 * @param handshakeTimeout longest one incoming connection may take to authenticate before it is dropped, so a
 *     silent impostor cannot hold the listener (default 10 s, never more than {@code connectTimeout})
 * @param socketBufferBytes SO_SNDBUF / SO_RCVBUF asked of the kernel; a fixed size turns autotuning off and is capped
 *     at {@code net.core.[rw]mem_max}. 0 (the default) chooses by where the neighbour is: on this host
 *     {@link #SAME_HOST_SOCKET_BUFFER_BYTES}, elsewhere the OS's autotuning, which on Linux grows the buffers up to the
 *     maxima of {@code net.ipv4.tcp_rmem} / {@code tcp_wmem} (a link's window must cover its bandwidth × round trip);
 *     {@link #OS_SOCKET_BUFFERS} (−1) leaves every connection to the OS
 * @param segmentBytes pipelining unit: chunks travel in frames of at most this many bytes, so forwarding segment
 *     j overlaps receiving segment j + 1 (default 4 MiB, a multiple of 4, at least 4 KiB)
 * @param encrypt seal every frame with AES-256-GCM under keys from the connection's handshake ({@link FrameCipher}):
 *     confidentiality on top of the authentication every connection has; every rank must set it alike (default off;
 *     the Spark layer turns it on with Spark's own network encryption or SSL)
 */
public record CollectiveOptions(
        Duration connectTimeout,
        Duration opTimeout,
        Duration handshakeTimeout,
        int socketBufferBytes,
        int segmentBytes,
        boolean encrypt) {

    /**
     * Socket buffers of a connection between two ranks on the same host when {@link #socketBufferBytes} is 0 (the
     * kernel doubles it: 512 KiB each way). Every byte of a loopback connection is copied in and out by the same
     * host's cores through the same caches, and its round trip is microseconds, so a small window costs no bandwidth;
     * autotuned buffers instead grow to many MiB while a rank adds a segment, and the bytes queued there leave the
     * cache before they are read. 25 MiB all-reduce on a loaded 2-core host, gloo's time over ours (medians of 31
     * interleaved rounds, two {@code AllReduceSweep} runs), OS autotuning → 256 KiB: 2 ranks 1.04 → 1.28× and
     * 0.98 → 1.12×, 4 ranks 0.88 → 0.98× and 0.87 → 1.01×.
     */
    public static final int SAME_HOST_SOCKET_BUFFER_BYTES = 256 << 10;

    /** {@link #socketBufferBytes} value that leaves every connection's buffers to the OS, on this host too. */
    public static final int OS_SOCKET_BUFFERS = -1;

    public CollectiveOptions {
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(opTimeout, "opTimeout");
        Objects.requireNonNull(handshakeTimeout, "handshakeTimeout");
        if (connectTimeout.toMillis() <= 0 || opTimeout.toMillis() <= 0 || handshakeTimeout.toMillis() <= 0) {
            throw new IllegalArgumentException("timeouts must be at least 1 ms, got connect " + connectTimeout + ", op "
                    + opTimeout + ", handshake " + handshakeTimeout);
        }
        if (socketBufferBytes < OS_SOCKET_BUFFERS) {
            throw new IllegalArgumentException("socketBufferBytes must be >= -1 (0 = by the neighbour's place,"
                    + " -1 = the OS's autotuning everywhere), got " + socketBufferBytes);
        }
        if (segmentBytes < 4096 || segmentBytes % 4 != 0) {
            throw new IllegalArgumentException("segmentBytes must be a multiple of 4 and >= 4096, got " + segmentBytes);
        }
    }

    /**
     * 60 s to connect, 300 s per frame, 10 s per handshake, socket buffers chosen by where the neighbour is (0: see
     * {@link #socketBufferBytes}), and 4 MiB segments: fewer frames, wakeups and queue hand-offs per byte (2-rank bus
     * bandwidth on loopback 880 → 1,180 MB/s, median of 3 runs each, against 1 MiB segments). Fixed 4 MiB buffers (this host's net.core.rmem_max) cut
     * autotuning off: 25 MiB 2-rank all-reduce bus bandwidth median 1,725 MB/s with them, 2,081 MB/s without (6 and 9
     * runs); small ones ({@link #SAME_HOST_SOCKET_BUFFER_BYTES}) beat both on one host. 1 MiB segments, gloo's size,
     * were no faster than 4 MiB with either kind of buffer (2 and 4 ranks, 2026-12-06).
     */
    public static CollectiveOptions defaults() {
        return new CollectiveOptions(
                Duration.ofSeconds(60), Duration.ofSeconds(300), Duration.ofSeconds(10), 0, 4 << 20, false);
    }

    /** These options with other connect and operation timeouts (the handshake timeout is capped by connect). */
    public CollectiveOptions withTimeouts(Duration connect, Duration op) {
        Duration handshake = handshakeTimeout.compareTo(connect) > 0 ? connect : handshakeTimeout;
        return new CollectiveOptions(connect, op, handshake, socketBufferBytes, segmentBytes, encrypt);
    }

    public CollectiveOptions withHandshakeTimeout(Duration handshake) {
        return new CollectiveOptions(connectTimeout, opTimeout, handshake, socketBufferBytes, segmentBytes, encrypt);
    }

    public CollectiveOptions withSocketBufferBytes(int bytes) {
        return new CollectiveOptions(connectTimeout, opTimeout, handshakeTimeout, bytes, segmentBytes, encrypt);
    }

    public CollectiveOptions withSegmentBytes(int bytes) {
        return new CollectiveOptions(connectTimeout, opTimeout, handshakeTimeout, socketBufferBytes, bytes, encrypt);
    }

    /** These options with frame encryption on or off ({@link #encrypt()}). */
    public CollectiveOptions withEncryption(boolean on) {
        return new CollectiveOptions(connectTimeout, opTimeout, handshakeTimeout, socketBufferBytes, segmentBytes, on);
    }

    /**
     * Applies the socket settings of a collective connection to {@code channel}, before it connects: TCP_NODELAY
     * (frames leave at once, no Nagle delay), SO_KEEPALIVE, and SO_SNDBUF / SO_RCVBUF when {@link #socketBufferBytes}
     * is positive; {@link #configure(SocketChannel, InetAddress)} adds the same-host buffers, as the ring uses them.
     */
    public void configure(SocketChannel channel) throws IOException {
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        channel.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
        if (socketBufferBytes > 0) {
            channel.setOption(StandardSocketOptions.SO_SNDBUF, socketBufferBytes);
            channel.setOption(StandardSocketOptions.SO_RCVBUF, socketBufferBytes);
        }
    }

    /**
     * {@link #configure(SocketChannel)} for a connection to {@code peer}: with {@link #socketBufferBytes} 0 and the
     * peer on this host (a loopback address or one of this host's interfaces), the buffers are set to
     * {@link #SAME_HOST_SOCKET_BUFFER_BYTES}. Call it before connecting, or right after accepting.
     */
    public void configure(SocketChannel channel, InetAddress peer) throws IOException {
        configure(channel);
        if (socketBufferBytes == 0 && isThisHost(peer)) {
            channel.setOption(StandardSocketOptions.SO_SNDBUF, SAME_HOST_SOCKET_BUFFER_BYTES);
            channel.setOption(StandardSocketOptions.SO_RCVBUF, SAME_HOST_SOCKET_BUFFER_BYTES);
        }
    }

    static boolean isThisHost(InetAddress address) throws IOException {
        return address != null
                && (address.isLoopbackAddress()
                        || address.isAnyLocalAddress()
                        || NetworkInterface.getByInetAddress(address) != null);
    }

    /**
     * Applies the settings to a listening socket, before it binds: SO_RCVBUF when {@link #socketBufferBytes} is
     * positive (accepted connections inherit it: TCP agrees on the window scale in its handshake, before accept).
     */
    public void configure(ServerSocketChannel server) throws IOException {
        if (socketBufferBytes > 0) {
            server.setOption(StandardSocketOptions.SO_RCVBUF, socketBufferBytes);
        }
    }
}
