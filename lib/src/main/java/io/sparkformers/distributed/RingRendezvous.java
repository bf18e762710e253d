package io.sparkformers.distributed;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.channels.Channel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How ranks find each other and form the ring (c10d's role of the {@code Store} rendezvous, done as a Spark barrier
 * task does it): each rank listens on its own host address first, so that its address can be published (e.g.
 * through {@code BarrierTaskContext.allGather}); then {@link #join} connects to the right neighbour r+1 and accepts
 * the left neighbour r−1 (mod N), both authenticated with the job secret ({@link Handshake}) before the link carries
 * any data, all within {@link CollectiveOptions#connectTimeout()}. Connections that fail authentication are refused,
 * logged and counted while the listener keeps waiting for the real neighbour; at most 16 authenticate at once, each
 * within {@link CollectiveOptions#handshakeTimeout()}. The listener closes once the ring is formed or joining gave up.
 * With {@link CollectiveOptions#encrypt()} each link's frames are then sealed with keys from its handshake
 * ({@link FrameCipher}).
 */
final class RingRendezvous implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Collective.class); // the category users configure
    private static final int MAX_PENDING_HANDSHAKES = 16;

    private final ServerSocketChannel server;
    private final InetSocketAddress address;
    private final CollectiveOptions options;
    private final AtomicInteger refused = new AtomicInteger();
    private volatile Selector acceptSelector;

    private RingRendezvous(ServerSocketChannel server, CollectiveOptions options) throws IOException {
        this.server = server;
        this.address = (InetSocketAddress) server.getLocalAddress();
        this.options = options;
    }

    /** Opens a listening socket at {@code bind} (port 0: ephemeral); the wildcard address is refused. */
    static RingRendezvous listen(InetSocketAddress bind, CollectiveOptions options) throws IOException {
        if (bind.isUnresolved() || bind.getAddress().isAnyLocalAddress()) {
            throw new IllegalArgumentException("a collective listens on this host's own address, not on " + bind
                    + ": pass the executor's address (e.g. 127.0.0.1 in local mode)");
        }
        ServerSocketChannel server = ServerSocketChannel.open();
        try {
            options.configure(server);
            server.bind(bind, MAX_PENDING_HANDSHAKES);
            return new RingRendezvous(server, options);
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot listen on " + Link.hostPort(bind) + ": " + e.getMessage(), e);
        }
    }

    InetSocketAddress address() {
        return address;
    }

    int refusedConnections() {
        return refused.get();
    }

    /**
     * Checks the arguments, forms the ring and closes this listener; the transport returned owns both links.
     *
     * @throws CollectiveException naming the neighbour that did not connect, authenticate or answer
     */
    RingTransport join(int rank, int worldSize, List<InetSocketAddress> peers, byte[] secret)
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
            throw new IllegalArgumentException(
                    "peers[" + rank + "] = " + mine + " but this rank listens at " + Link.hostPort(address));
        }
        try (this) {
            if (worldSize == 1) {
                return new RingTransport(rank, peers, options, null, null);
            }
            return formRing(rank, worldSize, peers, secret.clone());
        }
    }

    private RingTransport formRing(int rank, int n, List<InetSocketAddress> peers, byte[] secret)
            throws CollectiveException {
        int left = Math.floorMod(rank - 1, n);
        int right = Math.floorMod(rank + 1, n);
        long start = System.nanoTime();
        long deadline = start + options.connectTimeout().toNanos();
        CompletableFuture<Link> fromLeft = new CompletableFuture<>();
        Thread acceptor = new Thread(
                () -> acceptLoop(rank, left, n, peers.get(left), secret, deadline, fromLeft),
                "sparkformers-collective-accept-r" + rank);
        acceptor.setDaemon(true);
        acceptor.start();
        Link toRight = null;
        RingTransport formed = null;
        try {
            toRight = connectRight(rank, right, n, peers.get(right), secret, deadline);
            Link leftLink = fromLeft.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            formed = new RingTransport(rank, peers, options, leftLink, toRight);
            return formed;
        } catch (TimeoutException e) {
            throw new CollectiveTimeoutException(
                    "rank " + rank + ": " + Link.describe(left, peers.get(left))
                            + " did not connect and authenticate within "
                            + options.connectTimeout().toMillis() + " ms"
                            + refusedNote(),
                    e);
        } catch (ExecutionException e) {
            throw new CollectiveException(
                    "rank " + rank + ": accepting " + Link.describe(left, peers.get(left)) + " failed: "
                            + e.getCause().getMessage(),
                    e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CollectiveException("rank " + rank + ": interrupted while forming the ring", e);
        } finally {
            close();
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
                throw new CollectiveTimeoutException(
                        "rank " + rank + ": could not connect to " + peer + " within "
                                + options.connectTimeout().toMillis() + " ms"
                                + (last == null ? "" : ": " + last.getMessage()),
                        last);
            }
            SocketChannel ch = null;
            try {
                ch = SocketChannel.open();
                options.configure(ch, target.getAddress());
                ch.socket().connect(target, (int)
                        Math.max(1, Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(left))));
                Link link = new Link(ch, right, target);
                try {
                    link.encryptWith(Handshake.connect(link, secret, rank, right, n, options.encrypt(), deadline));
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
                throw new CollectiveTimeoutException(
                        "rank " + rank + ": could not connect and authenticate with " + peer + " within "
                                + options.connectTimeout().toMillis() + " ms: " + e.getMessage(),
                        e);
            } catch (IOException e) {
                closeChannel(ch);
                throw new CollectiveException(
                        "rank " + rank + ": joining the ring through " + peer + " failed: " + e.getMessage(), e);
            }
        }
    }

    /** Accepts connections until the left neighbour authenticates; impostors are refused, logged, closed. */
    private void acceptLoop(
            int rank,
            int left,
            int n,
            InetSocketAddress leftAddress,
            byte[] secret,
            long deadline,
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
                    Thread t = new Thread(
                            () -> {
                                try {
                                    authenticateLeft(
                                            accepted, from, rank, left, n, leftAddress, secret, deadline, result);
                                } finally {
                                    slots.release();
                                }
                            },
                            "sparkformers-collective-handshake-r" + rank);
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

    private void authenticateLeft(
            SocketChannel ch,
            InetSocketAddress from,
            int rank,
            int left,
            int n,
            InetSocketAddress leftAddress,
            byte[] secret,
            long deadline,
            CompletableFuture<Link> result) {
        Link link = null;
        try {
            options.configure(ch, from.getAddress());
            link = new Link(ch, -1, from);
            long handshakeDeadline = Math.min(
                    deadline, System.nanoTime() + options.handshakeTimeout().toNanos());
            link.encryptWith(Handshake.accept(link, secret, rank, left, n, options.encrypt(), handshakeDeadline));
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

    /** Stops listening; a ring already formed keeps its links. */
    @Override
    public void close() {
        closeChannel(server);
        Selector s = acceptSelector;
        if (s != null) {
            s.wakeup();
        }
    }

    private static void closeChannel(Channel ch) {
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
}
