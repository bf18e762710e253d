package io.sparkformers.distributed;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** Test helper: N ranks as threads of this JVM on 127.0.0.1, rendezvous exactly as Spark tasks will do it. */
final class Rings {
    static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    /**
     * Short timeouts so a broken test fails in seconds; encrypted when the system property
     * {@code sparkformers.collective.encrypt} is true, so the whole suite runs either way
     * ({@code -Dsparkformers.collective.encrypt=true}).
     */
    static final CollectiveOptions FAST = CollectiveOptions.defaults()
            .withTimeouts(Duration.ofSeconds(10), Duration.ofSeconds(10))
            .withHandshakeTimeout(Duration.ofSeconds(2))
            .withSegmentBytes(4096)
            .withEncryption(Boolean.getBoolean("sparkformers.collective.encrypt"));

    private Rings() {}

    interface RankTask<T> {
        T run(int rank) throws Exception;
    }

    /** Runs {@code task} for ranks 0..n−1 concurrently and returns the results in rank order. */
    static <T> List<T> onAllRanks(int n, RankTask<T> task) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                int rank = r;
                futures.add(pool.submit((Callable<T>) () -> task.run(rank)));
            }
            List<T> out = new ArrayList<>();
            for (Future<T> f : futures) {
                out.add(f.get(60, TimeUnit.SECONDS));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    /** Listens on every rank, publishes the addresses, then joins all ranks concurrently. */
    static List<Collective> form(int n, byte[] secret, CollectiveOptions options) throws Exception {
        List<Collective.Listener> listeners = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            listeners.add(Collective.listen(LOOPBACK, options));
        }
        List<InetSocketAddress> peers =
                listeners.stream().map(Collective.Listener::address).toList();
        return onAllRanks(n, r -> listeners.get(r).join(r, n, peers, secret));
    }

    static List<Collective> form(int n) throws Exception {
        return form(n, Secrets.newJobSecret(), FAST);
    }

    static void closeAll(List<Collective> ring) {
        ring.forEach(Collective::close);
    }
}
