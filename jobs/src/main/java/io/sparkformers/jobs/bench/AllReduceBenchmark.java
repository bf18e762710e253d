package io.sparkformers.jobs.bench;

import static io.sparkformers.jobs.bench.Stats.median;

import io.sparkformers.distributed.Collective;
import io.sparkformers.distributed.CollectiveOptions;
import io.sparkformers.distributed.GradientBuckets;
import io.sparkformers.distributed.Secrets;
import io.sparkformers.hub.Json;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * All-reduce bandwidth on loopback against raw TCP, in the terms of NCCL's performance notes: for S bytes in
 * t seconds, algorithm bandwidth S/t and bus bandwidth 2(N−1)/N·S/t, the rate each link would need; a ring
 * all-reduce is at the network's limit when bus bandwidth equals the link bandwidth B, i.e. when t equals the
 * cost model 2(N−1)/N·S/B. B is measured in the same run: one socket pair streaming the same S bytes.
 * Ranks are threads of this JVM; on loopback every byte costs CPU on both sides, so ranks beyond the core
 * count are CPU-bound. Run with {@code -XX:MaxDirectMemorySize} ≥ (2 × ranks + 1) × S.
 *
 * <p>A second peer separates the ring's own cost from the host's: raw TCP in the ring's pattern — every rank
 * streaming 2(N−1)/N·S bytes to its right neighbour while reading as many from its left, all at once, no framing and
 * no additions. On one host both peers share the same cores; bus bandwidth over this raw-ring bandwidth is the
 * share of the achievable transfer rate the all-reduce reaches.
 *
 * <p>Both peers send from and receive into buffers of S bytes, as the all-reduce does (a rank's S-byte buffer goes
 * out and comes back): a peer cycling through one small buffer would stay in cache and measure a rate the
 * all-reduce of a real bucket cannot have (raw ring on loopback 2.3–3.0 GB/s from a 4 MiB buffer, 1.8–2.2 GB/s
 * from 25 MiB ones, same host and minute).
 *
 * <p>Encryption's cost ({@link CollectiveOptions#encrypt()}, AES-256-GCM frames) is measured in the same run: a
 * second ring of the same ranks with encryption on all-reduces the same buffers in every round, alternating which
 * ring goes first, and the encrypted over clear bus bandwidth is the median of the per-round ratios.
 *
 * <p>With the reference Python at hand ({@link PythonPeer}, {@code run(…, true)}) torch.distributed's gloo backend
 * all-reduces the same bucket in as many processes on this host ({@code peers/torch_allreduce.py}), one timed
 * all-reduce per round interleaved with ours; {@code busOverGloo} is the median of the per-round ratios (gloo's
 * time over ours: above 1 we are faster). NaN without the peer.
 *
 * <p>Usage: {@code java -cp … io.sparkformers.jobs.bench.AllReduceBenchmark [floats,…] [ranks,…] [rounds]}
 * (defaults 6553600,26214400 · 2,4 · 9: one and four DDP buckets of 25 MiB).
 */
public final class AllReduceBenchmark {

    /**
     * One measured configuration; bandwidths in bytes/second and times in seconds, medians over the rounds; the
     * ratios are medians of the per-round ratios. {@code encrypted…}: the same all-reduce on an encrypted ring.
     */
    public record Result(
            int ranks,
            long floats,
            long bytes,
            double seconds,
            double algorithmBandwidth,
            double busBandwidth,
            double loopbackBandwidth,
            double busOverLoopback,
            double modelSeconds,
            double rawRingBandwidth,
            double busOverRawRing,
            double encryptedSeconds,
            double encryptedBusBandwidth,
            double encryptedOverClear,
            double glooSeconds,
            double glooBusBandwidth,
            double busOverGloo) {}

    /** Floats in one gradient bucket of the data-parallel trainer (PyTorch DDP's 25 MiB): the size it all-reduces. */
    public static final long BUCKET_FLOATS = GradientBuckets.DEFAULT_BUCKET_CAP_BYTES / 4;

    /**
     * Untimed all-reduces per ring before the rounds: the JDK runs AES-GCM at about 25 MB/s until the JIT has compiled
     * its AES-NI / carry-less-multiply intrinsics, after some 50 MB of 4 MiB frames on this host (3–3.7 GB/s after).
     */
    static final int WARM_UP_ROUNDS = 5;

    private AllReduceBenchmark() {}

    public static void main(String[] args) throws Exception {
        long[] sizes = args.length > 0 ? parse(args[0]) : new long[] {BUCKET_FLOATS, 4 * BUCKET_FLOATS};
        long[] ranks = args.length > 1 ? parse(args[1]) : new long[] {2, 4};
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 9;
        List<Result> results = new ArrayList<>();
        System.out.printf(
                "%-6s %12s %12s %9s %11s %11s %11s %9s %9s %11s %9s %11s %9s%n",
                "ranks",
                "floats",
                "bytes",
                "seconds",
                "algBW MB/s",
                "busBW MB/s",
                "loopback",
                "bus/loop",
                "model s",
                "raw ring",
                "bus/raw",
                "enc busBW",
                "enc/clear");
        for (long floats : sizes) {
            for (long n : ranks) {
                Result r = run((int) n, floats, rounds);
                results.add(r);
                System.out.printf(
                        Locale.ROOT,
                        "%-6d %12d %12d %9.3f %11.0f %11.0f %11.0f %9.2f %9.3f %11.0f %9.2f %11.0f %9.2f%n",
                        r.ranks(),
                        r.floats(),
                        r.bytes(),
                        r.seconds(),
                        r.algorithmBandwidth() / 1e6,
                        r.busBandwidth() / 1e6,
                        r.loopbackBandwidth() / 1e6,
                        r.busOverLoopback(),
                        r.modelSeconds(),
                        r.rawRingBandwidth() / 1e6,
                        r.busOverRawRing(),
                        r.encryptedBusBandwidth() / 1e6,
                        r.encryptedOverClear());
            }
        }
    }

    /**
     * Interleaved rounds on the same buffers: each round times one loopback stream, one raw ring and one all-reduce
     * of the same bytes on a clear and on an encrypted ring (which goes first alternates), back to back, so a busy
     * moment of the shared host falls on all alike. Bandwidths are
     * medians over the rounds and each ratio is the median of the per-round ratios. Connections are set up again
     * for every round of the peers (one untimed warm-up transfer each, so the kernel's buffer autotuning has grown);
     * each ring forms once and runs {@link #WARM_UP_ROUNDS} untimed all-reduces first.
     */
    public static Result run(int ranks, long floats, int rounds) throws Exception {
        return run(ranks, floats, rounds, false);
    }

    /** {@link #run(int, long, int)}, with the gloo peer interleaved when {@code withPeer} and a reference Python. */
    public static Result run(int ranks, long floats, int rounds, boolean withPeer) throws Exception {
        if (ranks < 2) {
            throw new IllegalArgumentException("an all-reduce benchmark needs at least 2 ranks, got " + ranks);
        }
        if (rounds < 1) {
            throw new IllegalArgumentException("rounds must be >= 1, got " + rounds);
        }
        long bytes = floats * 4;
        double factor = 2.0 * (ranks - 1) / ranks;
        long perRank = (long) (factor * bytes);
        List<ByteBuffer> buffers = new ArrayList<>();
        List<ByteBuffer> sinks = new ArrayList<>();
        for (int r = 0; r < ranks; r++) {
            ByteBuffer b = ByteBuffer.allocateDirect(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < floats; i++) {
                b.putFloat(4 * i, 1f / ranks);
            }
            buffers.add(b);
            sinks.add(ByteBuffer.allocateDirect(Math.toIntExact(bytes)));
        }
        List<Collective> ring = formRing(ranks, CollectiveOptions.defaults());
        List<Collective> encryptedRing =
                formRing(ranks, CollectiveOptions.defaults().withEncryption(true));
        ExecutorService pool = Executors.newFixedThreadPool(ranks);
        PythonPeer gloo = withPeer ? startGloo(ranks, floats) : null;
        try {
            for (int i = 0; i < WARM_UP_ROUNDS; i++) {
                allReduceSeconds(ring, buffers, pool);
                allReduceSeconds(encryptedRing, buffers, pool);
            }
            double[] loopback = new double[rounds];
            double[] rawRing = new double[rounds];
            double[] seconds = new double[rounds];
            double[] overLoopback = new double[rounds];
            double[] overRawRing = new double[rounds];
            double[] encrypted = new double[rounds];
            double[] encryptedOverClear = new double[rounds];
            double[] glooSeconds = new double[rounds];
            double[] overGloo = new double[rounds];
            for (int i = 0; i < rounds; i++) {
                loopback[i] = loopbackBandwidth(buffers.get(0), sinks.get(0), 1);
                rawRing[i] = perRank / rawRingSeconds(buffers, sinks, perRank, 1);
                if (i % 2 == 0) {
                    seconds[i] = allReduceSeconds(ring, buffers, pool);
                    encrypted[i] = allReduceSeconds(encryptedRing, buffers, pool);
                } else {
                    encrypted[i] = allReduceSeconds(encryptedRing, buffers, pool);
                    seconds[i] = allReduceSeconds(ring, buffers, pool);
                }
                encryptedOverClear[i] = seconds[i] / encrypted[i];
                overLoopback[i] = factor * bytes / seconds[i] / loopback[i];
                overRawRing[i] = factor * bytes / seconds[i] / rawRing[i];
                if (gloo != null) {
                    glooSeconds[i] = gloo.request(Json.MAPPER.createObjectNode().put("iterations", 1))
                            .get("seconds")
                            .asDouble();
                    overGloo[i] = glooSeconds[i] / seconds[i];
                }
            }
            double tg = gloo == null ? Double.NaN : median(glooSeconds);
            double t = median(seconds);
            double loop = median(loopback);
            return new Result(
                    ranks,
                    floats,
                    bytes,
                    t,
                    bytes / t,
                    factor * bytes / t,
                    loop,
                    median(overLoopback),
                    factor * bytes / loop,
                    median(rawRing),
                    median(overRawRing),
                    median(encrypted),
                    factor * bytes / median(encrypted),
                    median(encryptedOverClear),
                    tg,
                    factor * bytes / tg,
                    gloo == null ? Double.NaN : median(overGloo));
        } finally {
            if (gloo != null) gloo.close();
            pool.shutdownNow();
            ring.forEach(Collective::close);
            encryptedRing.forEach(Collective::close);
        }
    }

    /** The gloo peer of {@code ranks} processes, formed and warmed up, or null (with the skip line) without Python. */
    static PythonPeer startGloo(int ranks, long floats) throws IOException {
        var python = PythonPeer.referencePython();
        if (python.isEmpty()) {
            System.err.println(PythonPeer.skipLine("allreduce: torch.distributed gloo"));
            return null;
        }
        int port = LoopbackCluster.freePort();
        PythonPeer peer = PythonPeer.start(
                python.get(),
                "torch_allreduce.py",
                List.of(Integer.toString(ranks), Long.toString(floats), Integer.toString(port)));
        peer.answer(); // {"ready": true}: the group formed and warmed up
        return peer;
    }

    /** Seconds of one all-reduce (average) on every rank at once, until the slowest rank is done. */
    static double allReduceSeconds(List<Collective> ring, List<ByteBuffer> buffers, ExecutorService pool)
            throws Exception {
        int ranks = ring.size();
        CyclicBarrier start = new CyclicBarrier(ranks);
        List<Future<Long>> done = new ArrayList<>();
        for (int r = 0; r < ranks; r++) {
            int rank = r;
            done.add(pool.submit(() -> {
                start.await();
                long t0 = System.nanoTime();
                ring.get(rank).allReduceAverage(buffers.get(rank));
                return System.nanoTime() - t0;
            }));
        }
        long slowest = 0;
        for (Future<Long> f : done) {
            slowest = Math.max(slowest, f.get());
        }
        return slowest / 1e9;
    }

    static List<Collective> formRing(int n, CollectiveOptions options) throws Exception {
        InetAddress host = InetAddress.getLoopbackAddress();
        List<Collective.Listener> listeners = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            listeners.add(Collective.listen(host, options));
        }
        List<InetSocketAddress> peers =
                listeners.stream().map(Collective.Listener::address).toList();
        byte[] secret = Secrets.newJobSecret();
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<Collective>> joined = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                int rank = r;
                joined.add(pool.submit(() -> listeners.get(rank).join(rank, n, peers, secret)));
            }
            List<Collective> ring = new ArrayList<>();
            for (Future<Collective> f : joined) {
                ring.add(f.get());
            }
            return ring;
        } finally {
            pool.shutdown();
        }
    }

    /**
     * Bytes/second of one loopback socket pair streaming all of {@code src} into {@code sink} (direct buffers of
     * the same size; best run).
     */
    static double loopbackBandwidth(ByteBuffer src, ByteBuffer sink, int iterations) throws Exception {
        InetAddress host = InetAddress.getLoopbackAddress();
        CollectiveOptions sockets = CollectiveOptions.defaults();
        long bytes = src.capacity();
        try (ServerSocketChannel server = ServerSocketChannel.open()) {
            sockets.configure(server);
            server.bind(new InetSocketAddress(host, 0));
            try (SocketChannel tx = SocketChannel.open()) {
                sockets.configure(tx, host);
                tx.connect(server.getLocalAddress());
                try (SocketChannel rx = server.accept()) {
                    sockets.configure(rx, host);
                    ExecutorService sender = Executors.newSingleThreadExecutor();
                    try {
                        double best = Double.MAX_VALUE;
                        for (int it = 0; it <= iterations; it++) {
                            long t0 = System.nanoTime();
                            Future<?> sent = sender.submit(() -> {
                                ByteBuffer b = src.duplicate().clear();
                                while (b.hasRemaining()) {
                                    tx.write(b);
                                }
                                return null;
                            });
                            ByteBuffer in = sink.duplicate().clear();
                            while (in.hasRemaining()) {
                                if (rx.read(in) < 0) {
                                    throw new IOException("loopback sender closed early");
                                }
                            }
                            sent.get();
                            if (it > 0) {
                                best = Math.min(best, (System.nanoTime() - t0) / 1e9);
                            }
                        }
                        return bytes / best;
                    } finally {
                        sender.shutdownNow();
                    }
                }
            }
        }
    }

    /**
     * Seconds (best run) for the ranks to each stream {@code perRank} bytes to the right neighbour while reading as
     * many from the left, all at once, over loopback TCP with the collective's socket settings. Rank r sends from
     * {@code sources.get(r)} and receives into {@code sinks.get(r)}, wrapping round them when {@code perRank} is
     * larger.
     */
    static double rawRingSeconds(List<ByteBuffer> sources, List<ByteBuffer> sinks, long perRank, int iterations)
            throws Exception {
        int ranks = sources.size();
        InetAddress host = InetAddress.getLoopbackAddress();
        CollectiveOptions sockets = CollectiveOptions.defaults();
        int chunk = 4 << 20;
        List<ServerSocketChannel> servers = new ArrayList<>();
        List<SocketChannel> tx = new ArrayList<>();
        List<SocketChannel> rx = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(2 * ranks);
        try {
            for (int r = 0; r < ranks; r++) {
                ServerSocketChannel server = ServerSocketChannel.open();
                sockets.configure(server);
                server.bind(new InetSocketAddress(host, 0));
                servers.add(server);
            }
            for (int r = 0; r < ranks; r++) { // rank r sends to r + 1, receives from r - 1
                SocketChannel out = SocketChannel.open();
                sockets.configure(out, host);
                out.connect(servers.get((r + 1) % ranks).getLocalAddress());
                tx.add(out);
                SocketChannel in = servers.get((r + 1) % ranks).accept();
                sockets.configure(in, host);
                rx.add(in); // rx.get(r) is what rank r + 1 reads
            }
            double best = Double.MAX_VALUE;
            for (int it = 0; it <= iterations; it++) {
                CyclicBarrier start = new CyclicBarrier(2 * ranks);
                List<Future<Long>> done = new ArrayList<>();
                for (int r = 0; r < ranks; r++) {
                    SocketChannel out = tx.get(r);
                    SocketChannel in = rx.get((r + ranks - 1) % ranks); // what rank r reads: sent by rank r − 1
                    ByteBuffer source = sources.get(r);
                    ByteBuffer sink = sinks.get(r);
                    done.add(pool.submit(() -> {
                        start.await();
                        long t0 = System.nanoTime();
                        for (long sent = 0; sent < perRank; ) {
                            ByteBuffer src = window(source, sent, chunk, perRank);
                            while (src.hasRemaining()) sent += out.write(src);
                        }
                        return System.nanoTime() - t0;
                    }));
                    done.add(pool.submit(() -> {
                        start.await();
                        long t0 = System.nanoTime();
                        for (long got = 0; got < perRank; ) {
                            int n = in.read(window(sink, got, chunk, perRank));
                            if (n < 0) throw new IOException("raw ring peer closed early");
                            got += n;
                        }
                        return System.nanoTime() - t0;
                    }));
                }
                long slowest = 0;
                for (Future<Long> f : done) slowest = Math.max(slowest, f.get());
                if (it > 0) best = Math.min(best, slowest / 1e9);
            }
            return best;
        } finally {
            pool.shutdownNow();
            for (SocketChannel c : tx) c.close();
            for (SocketChannel c : rx) c.close();
            for (ServerSocketChannel s : servers) s.close();
        }
    }

    /** The next at most {@code chunk} bytes of a stream of {@code total} bytes cycling through {@code buffer}. */
    private static ByteBuffer window(ByteBuffer buffer, long done, int chunk, long total) {
        int at = (int) (done % buffer.capacity());
        return buffer.slice(at, (int) Math.min(Math.min(chunk, buffer.capacity() - at), total - done));
    }

    private static long[] parse(String csv) {
        String[] parts = csv.split(",");
        long[] out = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            out[i] = Long.parseLong(parts[i].trim());
        }
        return out;
    }
}
