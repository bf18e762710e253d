package io.sparkformers.jobs.bench;

import io.sparkformers.distributed.Collective;
import io.sparkformers.distributed.CollectiveOptions;
import io.sparkformers.hub.Json;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The all-reduce's transport settings against each other and against torch.distributed gloo in one run: one ring per
 * setting ({@code segmentBytes:socketBufferBytes}; socket buffer 0 = by the neighbour's place, −1 = the OS's
 * autotuning, as {@link CollectiveOptions}), the same ranks and buffers, one timed all-reduce (average) of every ring
 * per round in a rotating order, then one of gloo's ({@code peers/torch_allreduce.py}, same processes count and
 * bucket). Prints each setting's median seconds, bus bandwidth and the median of its per-round gloo/ours ratios.
 *
 * <p>Usage: {@code java -cp "jobs/target/sparkformers-jobs.jar:jobs/target/spark-home/jars/*"
 * io.sparkformers.jobs.bench.AllReduceSweep RANKS ROUNDS SEG:SOCK[,SEG:SOCK…] [FLOATS]} (FLOATS default one 25 MiB
 * bucket); gloo runs when {@link PythonPeer#referencePython()} finds the reference Python, else the one skip line.
 */
public final class AllReduceSweep {
    private AllReduceSweep() {}

    public static void main(String[] args) throws Exception {
        int ranks = Integer.parseInt(args[0]);
        int rounds = Integer.parseInt(args[1]);
        String[] settings = args[2].split(",");
        long floats = args.length > 3 ? Long.parseLong(args[3]) : AllReduceBenchmark.BUCKET_FLOATS;
        List<ByteBuffer> buffers = new ArrayList<>();
        for (int r = 0; r < ranks; r++) {
            ByteBuffer b =
                    ByteBuffer.allocateDirect(Math.toIntExact(4 * floats)).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < floats; i++) b.putFloat(4 * i, 1f / ranks);
            buffers.add(b);
        }
        List<List<Collective>> rings = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(ranks);
        PythonPeer gloo = null;
        try {
            for (String s : settings) {
                String[] p = s.split(":");
                rings.add(AllReduceBenchmark.formRing(
                        ranks,
                        CollectiveOptions.defaults()
                                .withSegmentBytes(Integer.parseInt(p[0]))
                                .withSocketBufferBytes(Integer.parseInt(p[1]))));
            }
            gloo = AllReduceBenchmark.startGloo(ranks, floats);
            for (List<Collective> ring : rings) {
                for (int i = 0; i < AllReduceBenchmark.WARM_UP_ROUNDS; i++) {
                    AllReduceBenchmark.allReduceSeconds(ring, buffers, pool);
                }
            }
            double[][] seconds = new double[rings.size()][rounds];
            double[][] glooOverOurs = new double[rings.size()][rounds];
            double[] glooSeconds = new double[rounds];
            for (int i = 0; i < rounds; i++) {
                for (int k = 0; k < rings.size(); k++) {
                    int j = (k + i) % rings.size();
                    seconds[j][i] = AllReduceBenchmark.allReduceSeconds(rings.get(j), buffers, pool);
                }
                if (gloo != null) {
                    glooSeconds[i] = gloo.request(Json.MAPPER.createObjectNode().put("iterations", 1))
                            .get("seconds")
                            .asDouble();
                    for (int k = 0; k < rings.size(); k++) glooOverOurs[k][i] = glooSeconds[i] / seconds[k][i];
                }
            }
            double busBytes = 2.0 * (ranks - 1) / ranks * 4 * floats;
            if (gloo != null) {
                double t = Stats.median(glooSeconds);
                System.out.printf(
                        Locale.ROOT, "%d ranks, gloo: %.3f s, bus bandwidth %.0f MB/s%n", ranks, t, busBytes / t / 1e6);
            }
            for (int k = 0; k < rings.size(); k++) {
                double t = Stats.median(seconds[k]);
                System.out.printf(
                        Locale.ROOT,
                        "%d ranks, segment:socket %s: %.3f s, bus bandwidth %.0f MB/s, gloo/ours %.2f%n",
                        ranks,
                        settings[k],
                        t,
                        busBytes / t / 1e6,
                        gloo == null ? Double.NaN : Stats.median(glooOverOurs[k]));
            }
        } finally {
            if (gloo != null) gloo.close();
            pool.shutdownNow();
            rings.forEach(r -> r.forEach(Collective::close));
        }
    }
}
