package io.sparkformers.jobs.bench;

import static io.sparkformers.jobs.bench.Stats.median;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.convert.BuiltinModels;
import io.sparkformers.convert.ModelJar;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.Json;
import io.sparkformers.hub.MavenArtifacts;
import io.sparkformers.nn.ComputeDtype;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.NoGrad;
import io.sparkformers.nn.Task;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Encoder inference over a grid of batch × sequence shapes, ours (DJL/libtorch) against ONNX Runtime on the model's
 * original ONNX export where the model ships one (the ONNX-jar aliases; bert-base-uncased comes as a TF checkpoint and
 * is measured ours-only), with the achieved GFLOP/s against the machine's GEMM peak. The machine is shared, so each
 * round times ours, the peer and one 2048² GEMM back to back (the order alternating per round) and medians are taken
 * per engine: the ratios then compare the engines under the same load. Within a round each engine runs a block of calls
 * ({@link #BLOCK_MS}) after a pause and one untimed call ({@link #COOL_DOWN_MS}), so that neither is timed while the
 * other's thread pool is still spinning, after a warm-up long enough for the JIT ({@link #WARMUP_MS}). Where the CPU
 * multiplies BF16 natively ({@link ComputeDtype#fastBf16}) the same model also runs with {@code dtype=bf16} in the same
 * rounds, so its ratio to ONNX Runtime FP32 is measured under the same load.
 */
public final class InferenceGrid {

    /** Side of the square matmul that stands for the machine's FP32 GEMM peak. */
    public static final int GEMM_SIZE = 2048;
    /**
     * Each engine's share of a round runs back to back for about this long: alternating single calls of a few ms
     * measured each engine's idle worker threads spinning on the core the other needed (MiniLM 1 × 32, 2 threads:
     * ours 16-17 ms alternating vs 7.1-7.9 ms in a loop of its own; ONNX Runtime 6.6 vs 4.0 ms).
     */
    static final double BLOCK_MS = 150;
    /**
     * Before each engine's block the thread sleeps this long, then makes one untimed call: ONNX Runtime's pool threads
     * keep spinning for tens of ms after its last call (MiniLM 1 × 32, 2 threads, our calls right after its block: 13,
     * 9, 13, 9, 9, 8 ms, then 5.0-5.3), which the next engine's first calls paid — a cost of hosting two engines in one
     * process that a user running one of them never sees. The pause lets the previous engine's threads go idle; the
     * untimed call wakes the next one's, so that both engines are timed as a steady stream of calls.
     */
    static final long COOL_DOWN_MS = 100;
    /**
     * Warm-up per shape lasts at least this long (and the given number of calls): our forward is a few hundred Java
     * methods that the JIT compiles on the same two cores for the first seconds (MiniLM 1 × 32, 2 threads: 12-14 ms
     * per call after 3 warm-up calls, 8.3 ms after a few hundred).
     */
    static final double WARMUP_MS = 2000;
    /**
     * The first shape a process measures warms up this long instead: the JIT is still compiling our forward for the
     * first seconds of the JVM, and that shape paid for it (MiniLM 1 × 32 measured four times in one run: ours 10.0,
     * 7.4, 6.5, 7.5 ms against ONNX Runtime's 6.3, 6.8, 5.6, 6.2; after 8 s of warm-up 7.5, 6.2, 6.4; after 15 s
     * 6.4, 6.7, 7.9).
     */
    static final double FIRST_WARMUP_MS = 15000;

    /** Whether this process has measured a shape yet ({@link #FIRST_WARMUP_MS}). */
    private static boolean warmedUp;

    static final int MAX_CALLS = 200;

    /**
     * One measured shape.
     *
     * @param gflop     encoder FLOPs of one forward, in 10^9 (see {@link #encoderFlops})
     * @param oursMs    median ms per batch, ours
     * @param onnxMs    median ms per batch, ONNX Runtime (NaN when there is no ONNX export)
     * @param bf16Ms    median ms per batch, ours with dtype bf16 (NaN where the CPU lacks native BF16)
     * @param gemmGflops median GFLOP/s of the 2048² matmul in the same rounds
     */
    public record Row(
            String model,
            int batch,
            int seqLength,
            double gflop,
            double oursMs,
            double onnxMs,
            double bf16Ms,
            double gemmGflops) {
        public double oursGflops() {
            return gflop / (oursMs / 1000);
        }

        /** Fraction of the same-round GEMM peak that the encoder achieves. */
        public double fractionOfPeak() {
            return oursGflops() / gemmGflops;
        }

        public double oursTokensPerSecond() {
            return batch * seqLength * 1000.0 / oursMs;
        }

        public double oursSequencesPerSecond() {
            return batch * 1000.0 / oursMs;
        }

        /** ONNX Runtime time over ours: above 1 means we are faster. */
        public double ratioToOnnxRuntime() {
            return onnxMs / oursMs;
        }

        /** ONNX Runtime (FP32) time over ours in BF16. */
        public double bf16RatioToOnnxRuntime() {
            return onnxMs / bf16Ms;
        }

        /** Ours FP32 time over ours BF16. */
        public double bf16Speedup() {
            return oursMs / bf16Ms;
        }

        /** The report's row: the measured fields and the figures derived from them (NaN where not measured). */
        public ObjectNode toJson() {
            ObjectNode row = Json.MAPPER.valueToTree(this);
            return row.put("oursGflops", oursGflops())
                    .put("fractionOfPeak", fractionOfPeak())
                    .put("oursTokensPerSecond", oursTokensPerSecond())
                    .put("oursSequencesPerSecond", oursSequencesPerSecond())
                    .put("ratioToOnnxRuntime", ratioToOnnxRuntime())
                    .put("bf16RatioToOnnxRuntime", bf16RatioToOnnxRuntime())
                    .put("bf16Speedup", bf16Speedup());
        }
    }

    private InferenceGrid() {}

    /**
     * Encoder FLOPs (multiply-adds × 2) of one forward: per layer 2·B·T·(4H² + 2HI) for the six projections and
     * 4·B·T²·H for Q·K^T and probs·V. Embeddings, LayerNorm, softmax and GELU are left out (well under 1%).
     */
    public static double encoderFlops(int layers, int hidden, int intermediate, int batch, int seq) {
        double bt = (double) batch * seq;
        return layers * (2 * bt * (4.0 * hidden * hidden + 2.0 * hidden * intermediate) + 4 * bt * seq * hidden);
    }

    /**
     * Runs every (batch, seq) of the grid for one alias; shapes over {@code maxGflop} per forward are left out
     * (--quick). {@code threads} intra-op threads for both engines (ours: set by the caller before the engine starts).
     */
    public static List<Row> run(
            String alias, int[] batches, int[] seqs, int threads, int warmup, int iterations, double maxGflop)
            throws Exception {
        BuiltinModels.Builtin builtin = BuiltinModels.get(alias);
        Path dir = BuiltinModels.resolve(builtin);
        JsonNode cfg = HfCheckpoint.open(dir).config();
        int layers = cfg.get("num_hidden_layers").asInt();
        int hidden = cfg.get("hidden_size").asInt();
        int intermediate = cfg.get("intermediate_size").asInt();
        boolean withOnnx = builtin.format() == BuiltinModels.Format.ONNX_JAR;
        List<Row> rows = new ArrayList<>();
        Path onnxFile = Files.createTempFile("bench-grid", ".onnx");
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        boolean withBf16 = ComputeDtype.fastBf16(Device.cpu());
        try (HfModel model = HfModel.fromPretrained(dir, Task.BASE);
                HfModel bf16 = withBf16
                        ? HfModel.fromPretrained(HfCheckpoint.open(dir), Task.BASE, Device.cpu(), ComputeDtype.BF16)
                        : null;
                NDManager gemmScope = NDManager.newBaseManager();
                OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            OrtSession session = null;
            if (withOnnx) {
                try (ModelJar jar = ModelJar.open(MavenArtifacts.resolve(builtin.coordinates()))) {
                    jar.extractOnnx(onnxFile);
                }
                opts.setIntraOpNumThreads(threads);
                opts.setInterOpNumThreads(1);
                opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                session = env.createSession(onnxFile.toString(), opts);
            }
            NDArray a = gemmScope.randomUniform(-1, 1, new Shape(GEMM_SIZE, GEMM_SIZE));
            NDArray b = gemmScope.randomUniform(-1, 1, new Shape(GEMM_SIZE, GEMM_SIZE));
            Runnable gemm = () -> {
                try (NoGrad g = NoGrad.enter();
                        NDArray c = a.matMul(b)) {
                    c.getFloat(0, 0); // forces the product to be computed
                }
            };
            try {
                for (int batch : batches) {
                    for (int seq : seqs) {
                        double flops = encoderFlops(layers, hidden, intermediate, batch, seq);
                        if (flops / 1e9 > maxGflop) continue;
                        long t0 = System.nanoTime();
                        Row r = measure(alias, model, bf16, session, env, gemm, batch, seq, flops, warmup, iterations);
                        rows.add(r);
                        // progress on stderr: the full grid runs for half an hour
                        System.err.printf(
                                Locale.ROOT,
                                "bench inference: %s %d × %d: ours %.1f ms, ONNX Runtime %.1f ms, %.2f× (%.0f s)%n",
                                alias,
                                batch,
                                seq,
                                r.oursMs(),
                                r.onnxMs(),
                                r.ratioToOnnxRuntime(),
                                (System.nanoTime() - t0) / 1e9);
                    }
                }
            } finally {
                if (session != null) session.close();
            }
        } finally {
            Files.deleteIfExists(onnxFile);
        }
        return rows;
    }

    private static Row measure(
            String alias,
            HfModel model,
            HfModel bf16Model,
            OrtSession session,
            OrtEnvironment env,
            Runnable gemm,
            int batch,
            int seq,
            double flops,
            int warmup,
            int iterations) {
        EncoderBatch input = EncoderBatch.random(batch, seq);
        Runnable ours = input.ours(model);
        Runnable bf16 = bf16Model == null ? null : input.ours(bf16Model);
        Runnable onnx = session == null ? null : input.onnx(env, session);
        long warmEnd = System.nanoTime() + (long) ((warmedUp ? WARMUP_MS : FIRST_WARMUP_MS) * 1e6);
        warmedUp = true;
        for (int w = 0; w < warmup || System.nanoTime() < warmEnd; w++) {
            ours.run();
            if (bf16 != null) bf16.run();
            if (onnx != null) onnx.run();
        }
        double slowest = Math.max(millis(ours), onnx == null ? 0 : millis(onnx));
        int calls = (int) Math.max(1, Math.min(MAX_CALLS, Math.ceil(BLOCK_MS / slowest)));
        gemm.run();
        double[] o = new double[iterations];
        double[] x = new double[iterations];
        double[] h = new double[iterations];
        double[] g = new double[iterations];
        for (int it = 0; it < iterations; it++) {
            boolean oursFirst = it % 2 == 0;
            if (oursFirst) o[it] = block(ours, calls);
            if (bf16 != null) h[it] = block(bf16, calls);
            if (onnx != null) x[it] = block(onnx, calls);
            if (!oursFirst) o[it] = block(ours, calls);
            g[it] = 2.0 * GEMM_SIZE * GEMM_SIZE * GEMM_SIZE / 1e9 / (block(gemm, 1) / 1000);
        }
        return new Row(
                alias,
                batch,
                seq,
                flops / 1e9,
                median(o),
                onnx == null ? Double.NaN : median(x),
                bf16 == null ? Double.NaN : median(h),
                median(g));
    }

    /** One engine's block: {@link #COOL_DOWN_MS} of sleep, one untimed call, then the mean ms of {@code calls}. */
    private static double block(Runnable r, int calls) {
        try {
            Thread.sleep(COOL_DOWN_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        r.run();
        return millis(r, calls);
    }

    /** Mean ms of {@code calls} back-to-back runs. */
    private static double millis(Runnable r, int calls) {
        long t0 = System.nanoTime();
        for (int i = 0; i < calls; i++) r.run();
        return (System.nanoTime() - t0) / 1e6 / calls;
    }

    private static double millis(Runnable r) {
        return millis(r, 1);
    }
}
