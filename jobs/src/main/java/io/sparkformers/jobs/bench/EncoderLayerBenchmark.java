package io.sparkformers.jobs.bench;

import ai.djl.Device;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.sparkformers.convert.BuiltinModels;
import io.sparkformers.convert.ModelJar;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.MavenArtifacts;
import io.sparkformers.nn.ComputeDtype;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The encoder-layer kernel ({@code io.sparkformers.nn.EncoderLayerKernel}) against the block-by-block path it replaces
 * and ONNX Runtime, in FP32 and BF16, all in one process: each round runs every engine in turn (rotating who goes
 * first), medians over rounds. The two paths of one model are switched per call by the system property
 * {@code sparkformers.encoderLayerKernel}. At one intra-op thread both libtorch and ONNX Runtime compute on the calling
 * thread, so the time is that thread's CPU time, which another process's load on a shared machine does not inflate
 * the way it does wall time; with more threads it is wall time.
 */
public final class EncoderLayerBenchmark {
    private EncoderLayerBenchmark() {}

    private static final String SWITCH = "sparkformers.encoderLayerKernel";
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /**
     * One shape: ms per forward of each engine (NaN where it did not run).
     *
     * @param cpuTime whether the figures are the calling thread's CPU time (one thread) rather than wall time
     */
    public record Row(
            String model,
            int batch,
            int seqLength,
            boolean cpuTime,
            double kernelMs,
            double blocksMs,
            double onnxMs,
            double bf16KernelMs,
            double bf16BlocksMs) {}

    /**
     * Every (batch, seq) for one alias shipped as ONNX (others are skipped with a line on stderr); {@code threads}
     * intra-op threads for both engines (ours: set by the caller before the engine starts).
     */
    public static List<Row> run(String alias, int[] batches, int[] seqs, int threads, int rounds) throws Exception {
        BuiltinModels.Builtin builtin = BuiltinModels.get(alias);
        if (builtin.format() != BuiltinModels.Format.ONNX_JAR) {
            throw new IllegalArgumentException(
                    alias + " has no ONNX export to compare with; use a model shipped as ONNX");
        }
        Path dir = BuiltinModels.resolve(builtin);
        Path onnxFile = Files.createTempFile("bench-layer", ".onnx");
        List<Row> rows = new ArrayList<>();
        boolean withBf16 = ComputeDtype.fastBf16(Device.cpu());
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (ModelJar jar = ModelJar.open(MavenArtifacts.resolve(builtin.coordinates()))) {
            jar.extractOnnx(onnxFile);
        }
        try (HfModel fp32 = HfModel.fromPretrained(dir, Task.BASE);
                HfModel bf16 = withBf16
                        ? HfModel.fromPretrained(HfCheckpoint.open(dir), Task.BASE, Device.cpu(), ComputeDtype.BF16)
                        : null;
                OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(threads);
            opts.setInterOpNumThreads(1);
            opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            try (OrtSession session = env.createSession(onnxFile.toString(), opts)) {
                for (int batch : batches) {
                    for (int seq : seqs) {
                        rows.add(measure(alias, fp32, bf16, session, env, batch, seq, threads == 1, rounds));
                    }
                }
            }
        } finally {
            System.clearProperty(SWITCH);
            Files.deleteIfExists(onnxFile);
        }
        return rows;
    }

    private static Row measure(
            String alias,
            HfModel fp32,
            HfModel bf16,
            OrtSession session,
            OrtEnvironment env,
            int batch,
            int seq,
            boolean cpuTime,
            int rounds) {
        EncoderBatch input = EncoderBatch.random(batch, seq);
        Runnable onnx = input.onnx(env, session);
        List<Runnable> engines = new ArrayList<>(List.of(ours(fp32, true, input), ours(fp32, false, input), onnx));
        if (bf16 != null) {
            engines.add(ours(bf16, true, input));
            engines.add(ours(bf16, false, input));
        }
        long warmEnd = System.nanoTime() + 3_000_000_000L;
        while (System.nanoTime() < warmEnd) engines.forEach(Runnable::run);
        int calls = (int) Math.max(2, Math.min(200, Math.ceil(300 / millis(engines.get(1), 1, cpuTime))));
        int n = engines.size();
        double[][] t = new double[n][rounds];
        for (int r = 0; r < rounds; r++) {
            for (int k = 0; k < n; k++) {
                int e = (k + r) % n; // who goes first rotates
                t[e][r] = millis(engines.get(e), calls, cpuTime);
            }
        }
        double nan = Double.NaN;
        return new Row(
                alias,
                batch,
                seq,
                cpuTime,
                Stats.median(t[0]),
                Stats.median(t[1]),
                Stats.median(t[2]),
                n > 3 ? Stats.median(t[3]) : nan,
                n > 3 ? Stats.median(t[4]) : nan);
    }

    /** One forward and the copy out, through the layer kernel ({@code kernel}) or block by block. */
    private static Runnable ours(HfModel model, boolean kernel, EncoderBatch input) {
        Runnable forward = input.ours(model);
        return () -> {
            if (kernel) System.clearProperty(SWITCH);
            else System.setProperty(SWITCH, "false");
            forward.run();
        };
    }

    /** Mean ms of {@code calls} back-to-back runs: the calling thread's CPU time, or wall time. */
    private static double millis(Runnable r, int calls, boolean cpuTime) {
        long t0 = cpuTime ? THREADS.getCurrentThreadCpuTime() : System.nanoTime();
        for (int i = 0; i < calls; i++) r.run();
        long t1 = cpuTime ? THREADS.getCurrentThreadCpuTime() : System.nanoTime();
        return (t1 - t0) / 1e6 / calls;
    }
}
