package io.sparkformers.jobs;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import io.sparkformers.jobs.bench.AllReduceBenchmark;
import io.sparkformers.jobs.bench.BenchHeader;
import io.sparkformers.jobs.bench.BenchSuite;
import io.sparkformers.jobs.bench.DistributedTrainingBenchmark;
import io.sparkformers.jobs.bench.EncoderLayerBenchmark;
import io.sparkformers.jobs.bench.ExecutorMemoryBenchmark;
import io.sparkformers.jobs.bench.ForwardBenchmark;
import io.sparkformers.jobs.bench.GenerationBenchmark;
import io.sparkformers.jobs.bench.InferenceBenchmark;
import io.sparkformers.jobs.bench.InferenceGrid;
import io.sparkformers.jobs.bench.LoadBenchmark;
import io.sparkformers.jobs.bench.OnnxEmbeddingLoop;
import io.sparkformers.jobs.bench.OnnxRuntimePeer;
import io.sparkformers.jobs.bench.TrainingBenchmark;
import io.sparkformers.nn.Task;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code sparkformers bench <name|all>}: benchmarks that print ratios against a peer measured in the same run.
 * Names: {@code load} (bert-base-uncased load time), {@code forward} (encoder throughput vs ONNX Runtime),
 * {@code training} (fine-tuning samples/s with the forward/backward/optimizer split and native memory over the steps),
 * {@code training-clm} (the same for causal-LM training of a random GPT-2 vs PyTorch eager; named explicitly),
 * {@code inference-spark} (sentence embeddings through Spark vs the bare in-process loop, and ONNX Runtime on the
 * same rows and batches, padding efficiency, executor peak RSS with 1 vs 2 task slots; named explicitly, not part of
 * {@code all}, as it starts Spark), {@code training-distributed} (data-parallel fine-tuning
 * samples/s with 1 vs N workers on the session's cluster, per-step compute/communication split; named explicitly),
 * {@code inference} (the encoder grid: MiniLM, bge-small and bert-base-uncased at batch {1, 8, 32} × seq
 * {32, 128, 512}, vs ONNX Runtime and the GEMM peak), {@code allreduce} (2-rank ring vs loopback TCP) and
 * {@code suite}: all of them, each in its own JVM, printed as the README's Markdown tables (and JSON).
 */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = "Run benchmarks; every figure is a ratio to a peer measured in the same run.")
public final class BenchCommand implements Callable<Integer> {
    static final List<String> NAMES = List.of(
            "load",
            "forward",
            "training",
            "training-clm",
            "inference-spark",
            "training-distributed",
            "inference",
            "encoder-layer",
            "allreduce",
            "generation",
            "suite");

    @Mixin
    CommonOptions common;

    @Parameters(
            paramLabel = "NAME",
            defaultValue = "all",
            description = "One of: load, forward, training, all (those three), training-clm, inference-spark, "
                    + "training-distributed, "
                    + "inference, encoder-layer, allreduce, "
                    + "suite (everything, one JVM each).")
    String name;

    @Option(names = "--threads", description = "Intra-op threads for both engines (default: all cores).")
    int threads = Runtime.getRuntime().availableProcessors();

    @Option(names = "--iterations", defaultValue = "10", description = "Timed runs per case (median reported).")
    int iterations;

    @Option(
            names = "--rows",
            defaultValue = "2000",
            description = "inference-spark: rows to score (default ${DEFAULT-VALUE}).")
    int rows;

    @Option(
            names = "--steps",
            defaultValue = "1000",
            description =
                    "training: timed optimizer steps (default ${DEFAULT-VALUE}); RSS is read before, half-way, after.")
    int steps;

    @Option(names = "--batch", defaultValue = "16", description = "training: batch size (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(
            names = "--clm-shape",
            split = ",",
            defaultValue = "128,4,4",
            description = "training-clm: n_embd,n_layer,n_head of the random GPT-2 (GPT-2's vocabulary, 128 positions; "
                    + "default ${DEFAULT-VALUE}).")
    int[] clmShape;

    @Option(
            names = "--train-model",
            defaultValue = "all-MiniLM-L6-v2",
            description = "training: the built-in model fine-tuned (default ${DEFAULT-VALUE}).")
    String trainModel;

    @Option(
            names = "--unfused-optimizer",
            description = "training: AdamW op by op (the form before the fused update), for before/after figures.")
    boolean unfusedOptimizer;

    @Option(
            names = "--rss-rows",
            defaultValue = "512",
            description = "inference-spark: rows scored by each executor "
                    + "peak-RSS case (1 and 2 task slots, a local-cluster application each; 0 skips them; default "
                    + "${DEFAULT-VALUE}).")
    int rssRows;

    @Option(
            names = "--rounds",
            defaultValue = "3",
            description = "inference-spark: rounds of Spark, bare loop and ONNX "
                    + "Runtime back to back (median reported; default ${DEFAULT-VALUE}).")
    int rounds;

    @Option(
            names = "--quick",
            description = "suite, inference: fewer rounds, steps and rows and no shape over 100 "
                    + "GFLOP per forward (about 15 minutes on 2 cores).")
    boolean quick;

    @Option(
            names = "--models",
            split = ",",
            description = "inference: aliases (default: all-MiniLM-L6-v2,"
                    + "bge-small-en-v1.5,bert-base-uncased; ONNX Runtime runs for the ONNX-jar ones).")
    List<String> gridModels = List.of("all-MiniLM-L6-v2", "bge-small-en-v1.5", "bert-base-uncased");

    @Option(names = "--batches", split = ",", description = "inference: batch sizes (default 1,8,32).")
    int[] gridBatches = {1, 8, 32};

    @Option(names = "--seqs", split = ",", description = "inference: sequence lengths (default 32,128,512).")
    int[] gridSeqs = {32, 128, 512};

    @Option(names = "--out", description = "suite: also write the JSON report to this file.")
    Path out;

    @Option(
            names = "--python",
            description = "generation: the Python with torch and transformers that runs the peer (default: "
                    + "$SPARKFORMERS_REFERENCE_PYTHON; without either, transformers is skipped).")
    String python;

    @Option(
            names = "--gen-models",
            split = ",",
            description = "generation: checkpoints (default gpt2-small-random,llama-small-random; encoder-decoders:"
                    + " bart-base-random, bart-tiny-random, t5-small-random; seeded random weights written once under"
                    + " --gen-dir).")
    List<String> genModels = List.of("gpt2-small-random", "llama-small-random");

    @Option(
            names = "--gen-dir",
            description =
                    "generation: folder of the benchmark checkpoints (default: <tmp>/sparkformers-bench-generation).")
    Path genDir = Path.of(System.getProperty("java.io.tmpdir"), "sparkformers-bench-generation");

    @Option(names = "--gen-batches", split = ",", description = "generation: batch sizes (default 1,8).")
    int[] genBatches = {1, 8};

    @Option(names = "--new-tokens", description = "generation: greedy tokens per row (default 64; prompt 32).")
    int newTokens = 64;

    @Option(
            names = "--latency-token",
            description = "generation: first, per model at batch 1, the cost of this new token against token 10 "
                    + "(goal <= 1.5x) and peak memory against weights + KV cache (goal <= 1.2x); 0 skips "
                    + "(default 500).")
    int latencyToken = 500;

    @Override
    public Integer call() throws Exception {
        if (!name.equals("all") && !NAMES.contains(name)) {
            throw new IllegalArgumentException(
                    "unknown benchmark '" + name + "' (names: " + String.join(", ", NAMES) + ", all)");
        }
        // ONNX Runtime is the peer of these and not in the shipped jobs jar: say how to add it before any work
        if (List.of("all", "forward", "inference", "inference-spark", "encoder-layer")
                .contains(name)) OnnxRuntimePeer.require(name);
        if (name.equals("inference-spark")) return inferenceSpark();
        if (name.equals("suite")) return suite();
        if (name.equals("allreduce")) return allReduce();
        if (name.equals("training-distributed")) return trainingDistributed();
        if (name.equals("generation")) return generation();
        // process-wide and read once when the engine starts: set before any DJL use
        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        ObjectNode report = Json.MAPPER.createObjectNode();
        report.put("cores", Runtime.getRuntime().availableProcessors()).put("threads", threads);
        BenchHeader.put(report);
        if (name.equals("all") || name.equals("load")) {
            LoadBenchmark.Result r = LoadBenchmark.run("bert-base-uncased", Task.MASKED_LM, 3);
            report.putPOJO("load", r);
            if (!common.json) {
                System.out.printf(
                        "load bert-base-uncased (%,d params): %.0f ms (one-time import from the jar: %.1f s)%n",
                        r.parameters(), r.loadMillis(), r.importSeconds());
            }
        }
        if (name.equals("all") || name.equals("forward")) {
            ArrayNode rows = report.putArray("forward");
            if (!common.json) {
                System.out.printf(
                        "%-18s %5s %5s %8s %10s %10s %12s %8s%n",
                        "model", "batch", "seq", "threads", "ours ms", "ORT ms", "ours tok/s", "ratio");
            }
            // interleaved rounds (see InferenceGrid): on a shared machine the ratio then compares like with like
            InferenceGrid.Row g = InferenceGrid.run(
                            "all-MiniLM-L6-v2",
                            new int[] {32},
                            new int[] {128},
                            threads,
                            3,
                            iterations,
                            Double.MAX_VALUE)
                    .get(0);
            ForwardBenchmark.Result r =
                    new ForwardBenchmark.Result(g.model(), g.batch(), g.seqLength(), threads, g.oursMs(), g.onnxMs());
            ObjectNode row = Json.MAPPER.valueToTree(r);
            row.put("oursSequencesPerSecond", r.oursSequencesPerSecond())
                    .put("onnxSequencesPerSecond", r.onnxSequencesPerSecond())
                    .put("oursTokensPerSecond", r.oursTokensPerSecond())
                    .put("ratioToOnnxRuntime", r.ratioToOnnxRuntime());
            rows.add(row);
            if (!common.json) {
                System.out.printf(
                        "%-18s %5d %5d %8d %10.1f %10.1f %12.0f %7.2fx%n",
                        r.model(),
                        r.batch(),
                        r.seqLength(),
                        r.threads(),
                        r.oursMsPerBatch(),
                        r.onnxMsPerBatch(),
                        r.oursTokensPerSecond(),
                        r.ratioToOnnxRuntime());
            }
        }
        if (name.equals("encoder-layer")) {
            ArrayNode rows = report.putArray("encoderLayer");
            for (String model : gridModels) {
                for (EncoderLayerBenchmark.Row r :
                        EncoderLayerBenchmark.run(model, gridBatches, gridSeqs, threads, iterations)) {
                    rows.add(Json.MAPPER.valueToTree(r));
                    if (!common.json) {
                        System.out.printf(
                                java.util.Locale.ROOT,
                                "%-18s %3d x %3d  %s ms: FP32 kernel %8.2f  blocks %8.2f  ORT %8.2f  (ORT/kernel %.3f,"
                                        + " ORT/blocks %.3f, blocks/kernel %.3f)  BF16 kernel %8.2f  blocks %8.2f"
                                        + "  (ORT-fp32/kernel %.3f, blocks/kernel %.3f)%n",
                                r.model(),
                                r.batch(),
                                r.seqLength(),
                                r.cpuTime() ? "thread CPU" : "wall",
                                r.kernelMs(),
                                r.blocksMs(),
                                r.onnxMs(),
                                r.onnxMs() / r.kernelMs(),
                                r.onnxMs() / r.blocksMs(),
                                r.blocksMs() / r.kernelMs(),
                                r.bf16KernelMs(),
                                r.bf16BlocksMs(),
                                r.onnxMs() / r.bf16KernelMs(),
                                r.bf16BlocksMs() / r.bf16KernelMs());
                    }
                }
            }
        }
        if (name.equals("inference")) {
            int warmup = quick ? 1 : 2;
            // a shape's round is 1-4 s; with 3 rounds one slow block in two of them (a shared host) set the median
            // (bge-small 32 × 32: 0.72× in one suite, 1.00× in the run before)
            int rounds = quick ? 7 : iterations;
            double maxGflop = quick ? 100 : Double.MAX_VALUE;
            report.put("iterations", rounds);
            ArrayNode rows = report.putArray("rows");
            for (String model : gridModels) {
                for (InferenceGrid.Row r :
                        InferenceGrid.run(model, gridBatches, gridSeqs, threads, warmup, rounds, maxGflop)) {
                    rows.add(r.toJson());
                    if (!common.json) {
                        System.out.printf(
                                "%-18s %3d x %3d  ours %9.1f ms  ORT %9.1f ms  ours/ORT speed %5.2fx  %6.0f GFLOP/s"
                                        + " (%3.0f%% of GEMM %4.0f)%s%n",
                                r.model(),
                                r.batch(),
                                r.seqLength(),
                                r.oursMs(),
                                r.onnxMs(),
                                r.ratioToOnnxRuntime(),
                                r.oursGflops(),
                                100 * r.fractionOfPeak(),
                                r.gemmGflops(),
                                Double.isNaN(r.bf16Ms())
                                        ? "  bf16: not run (no avx512_bf16/amx_bf16)"
                                        : String.format(
                                                java.util.Locale.ROOT,
                                                "  ours-bf16 %9.1f ms  bf16/ORT-fp32 speed %5.2fx  bf16/fp32 %5.2fx",
                                                r.bf16Ms(),
                                                r.bf16RatioToOnnxRuntime(),
                                                r.bf16Speedup()));
                    }
                }
            }
        }
        if (name.equals("all") || name.equals("training") || name.equals("training-clm")) {
            if (steps <= 0) throw new IllegalArgumentException("--steps must be > 0 but was " + steps);
            boolean clm = name.equals("training-clm");
            TrainingBenchmark.Result r = clm
                    ? TrainingBenchmark.runCausalLm(
                            clmShape[0], clmShape[1], clmShape[2], batch, 128, threads, 3, steps)
                    : TrainingBenchmark.run(trainModel, batch, 128, threads, 3, steps, !unfusedOptimizer);
            ObjectNode row = Json.MAPPER.valueToTree(r);
            row.put("stepMs", r.stepMs())
                    .put("samplesPerSecond", r.samplesPerSecond())
                    .put("tokensPerSecond", r.tokensPerSecond())
                    .put("rssGrowthMib", r.rssGrowthMib());
            if (r.peer() != null) {
                row.put("peerStepMs", r.peer().stepMs())
                        .put("peerSamplesPerSecond", batch * 1000.0 / r.peer().stepMs())
                        .put("ratioToPeer", r.ratioToPeer());
            }
            report.set(clm ? "training-clm" : "training", row);
            if (!common.json) {
                System.out.printf(
                        "training %s %dx%d, %d threads, %d steps: %.1f samples/s, %.0f tokens/s; per step "
                                + "%.0f ms = forward %.0f + backward %.0f + optimizer %.0f ms%n",
                        r.model(),
                        r.batch(),
                        r.seqLength(),
                        r.threads(),
                        r.steps(),
                        r.samplesPerSecond(),
                        r.tokensPerSecond(),
                        r.stepMs(),
                        r.forwardMs(),
                        r.backwardMs(),
                        r.optimizerMs());
                if (r.peer() != null) {
                    System.out.printf(
                            "  peer %s: %.1f samples/s; per step %.0f ms = forward %.0f + backward %.0f + optimizer"
                                    + " %.0f ms; ours/peer speed %.2fx (goal >= 1.0: %s)%n",
                            r.peerEngine(),
                            batch * 1000.0 / r.peer().stepMs(),
                            r.peer().stepMs(),
                            r.peer().forwardMs(),
                            r.peer().backwardMs(),
                            r.peer().optimizerMs(),
                            r.ratioToPeer(),
                            r.ratioToPeer() >= 1.0 ? "held" : "not held");
                }
                System.out.printf(
                        "native memory (VmRSS): %.0f MiB after warm-up, %.0f MiB half-way, %.0f MiB at the "
                                + "end (%+.1f MiB over %d steps)%n",
                        r.rssAfterWarmupKb() / 1024.0,
                        r.rssMidKb() / 1024.0,
                        r.rssEndKb() / 1024.0,
                        r.rssGrowthMib(),
                        r.steps());
            }
        }
        if (common.json) System.out.println(Json.MAPPER.writeValueAsString(report));
        return 0;
    }

    /** Greedy generation tokens/s, ours vs transformers' generate() (see GenerationBenchmark). */
    private int generation() throws Exception {
        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        String py = GenerationBenchmark.peerPython(python);
        if (py == null) {
            System.err.println("bench generation: no reference Python (--python or SPARKFORMERS_REFERENCE_PYTHON): "
                    + "transformers is skipped, ours only");
        }
        List<GenerationBenchmark.Scaling> scaling = new java.util.ArrayList<>();
        for (String m : latencyToken > 0 ? genModels : List.<String>of()) {
            if (GenerationBenchmark.encoderDecoder(m)) continue; // the latency/memory checks are decoders'
            var sc = GenerationBenchmark.scaling(genDir, m, 8, 10, latencyToken);
            scaling.add(sc);
            System.out.printf(
                    "%s batch 1, prompt %d: token %d %.2f ms, token %d %.2f ms: %.2fx (goal <= 1.5: %s)%n",
                    m,
                    sc.prompt(),
                    sc.early(),
                    sc.earlyMs(),
                    sc.late(),
                    sc.lateMs(),
                    sc.latencyRatio(),
                    sc.latencyRatio() <= 1.5 ? "held" : "not held");
            System.out.printf(
                    "%s peak anonymous memory outside the Java heap while generating +%.1f MiB over weights %.1f MiB"
                            + " + KV cache %.1f MiB: %.2fx (goal <= 1.2: %s); with the Java heap's resident pages"
                            + " (+%.1f MiB) +%.1f MiB: %.2fx; resident with the checkpoint's file pages: peak +%.1f MiB"
                            + " while generating, +%.1f MiB while loading, +%.1f MiB after%n",
                    m,
                    sc.nativePeakBytes() / 1048576.0,
                    sc.weightBytes() / 1048576.0,
                    sc.kvBytes() / 1048576.0,
                    sc.memoryRatio(),
                    sc.memoryRatio() <= 1.2 ? "held" : "not held",
                    sc.heapPeakBytes() / 1048576.0,
                    sc.anonPeakBytes() / 1048576.0,
                    sc.anonRatio(),
                    sc.peakBytes() / 1048576.0,
                    sc.loadPeakBytes() / 1048576.0,
                    sc.loadedBytes() / 1048576.0);
        }
        var rows = GenerationBenchmark.run(genDir, genModels, genBatches, 32, newTokens, threads, rounds, py);
        ObjectNode report =
                Json.MAPPER.createObjectNode().put("benchmark", "generation").put("threads", threads);
        report.putPOJO("rows", rows);
        report.putPOJO("scaling", scaling);
        if (common.json) {
            System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(report));
            return 0;
        }
        System.out.printf(
                "%-20s %5s %6s %4s %8s %12s %12s %8s%n",
                "model", "batch", "prompt", "new", "threads", "ours tok/s", "HF tok/s", "ratio");
        for (var r : rows) {
            System.out.printf(
                    "%-20s %5d %6d %4d %8d %12.1f %12.1f %8.2f%n",
                    r.model(),
                    r.batch(),
                    r.prompt(),
                    r.newTokens(),
                    r.threads(),
                    r.oursTokensPerSecond(),
                    r.peerTokensPerSecond(),
                    r.ratio());
        }
        System.out.println("ratio: our tokens/s over transformers' (medians of " + rounds + " interleaved rounds)");
        return 0;
    }

    /** Every benchmark in its own JVM, then the Markdown tables (or the JSON with --json). */
    private int suite() throws Exception {
        ObjectNode report = BenchSuite.run(BenchSuite.steps(quick, NAMES.contains("training-distributed")));
        String json = Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(report);
        if (out != null) Files.writeString(out, json);
        System.out.println(common.json ? json : BenchSuite.markdown(report));
        return 0;
    }

    /**
     * A 2-rank ring all-reduce of one gradient bucket (25 MiB, what the data-parallel trainer sends) against one
     * loopback socket pair streaming the same bytes, and against raw TCP in the ring's own pattern (every rank
     * sending and receiving at once) on the same cores, and the same all-reduce on an encrypted ring (AES-256-GCM
     * frames) with its bandwidth over the clear ring's; medians of 9 interleaved rounds (21 without --quick).
     */
    private int allReduce() throws Exception {
        ObjectNode report = Json.MAPPER.createObjectNode();
        for (int ranks : quick ? new int[] {2} : new int[] {2, 4}) {
            AllReduceBenchmark.Result r =
                    AllReduceBenchmark.run(ranks, AllReduceBenchmark.BUCKET_FLOATS, quick ? 9 : 21, true);
            ObjectNode o = Json.MAPPER.valueToTree(r);
            if (ranks == 2) report.setAll(o); // the 2-rank figures stay at the top level, as before
            report.set("ranks_" + ranks, o);
            if (common.json) continue;
            System.out.println(String.format(
                    "all-reduce %d ranks, %d bytes: bus bandwidth "
                            + "%.0f MB/s, loopback TCP %.0f MB/s, ratio %.2f; raw TCP ring %.0f MB/s, ratio %.2f;"
                            + " encrypted %.0f MB/s, encrypted/clear %.2f",
                    r.ranks(),
                    r.bytes(),
                    r.busBandwidth() / 1e6,
                    r.loopbackBandwidth() / 1e6,
                    r.busOverLoopback(),
                    r.rawRingBandwidth() / 1e6,
                    r.busOverRawRing(),
                    r.encryptedBusBandwidth() / 1e6,
                    r.encryptedOverClear()));
            if (!Double.isNaN(r.busOverGloo())) {
                System.out.printf(
                        "  peer torch.distributed gloo, %d processes: %.0f MB/s bus bandwidth; ours/gloo speed %.2fx"
                                + " (goal >= 1.0: %s)%n",
                        r.ranks(),
                        r.glooBusBandwidth() / 1e6,
                        r.busOverGloo(),
                        r.busOverGloo() >= 1.0 ? "held" : "not held");
            }
        }
        if (common.json) System.out.println(report.toString());
        return 0;
    }

    @Option(
            names = "--workers",
            defaultValue = "2",
            description =
                    "training-distributed: workers of the data-parallel run compared with 1 (default ${DEFAULT-VALUE}).")
    int workers;

    @Option(
            names = "--dist-steps",
            defaultValue = "20",
            description = "training-distributed: optimizer steps per run (default ${DEFAULT-VALUE}).")
    int distSteps;

    @Option(
            names = "--dist-rounds",
            defaultValue = "3",
            description = "training-distributed: interleaved rounds of ours and DDP, 1 and --workers each; figures are"
                    + " medians (default ${DEFAULT-VALUE}).")
    int distRounds;

    @Option(
            names = "--ddp-peer",
            negatable = true,
            defaultValue = "true",
            fallbackValue = "true",
            description = "training-distributed: also run PyTorch DDP (gloo) with 1 and --workers processes on this"
                    + " host when a reference Python is at hand (default true; --no-ddp-peer skips it).")
    boolean ddpPeer;

    private static String roundRatios(DistributedTrainingBenchmark.Comparison c) {
        StringBuilder sb = new StringBuilder();
        for (double x : c.roundRatios()) sb.append(String.format(Locale.ROOT, " %.2f", x));
        return sb.toString();
    }

    /** 1 vs {@code --workers} replicas on the executors of the launcher's master (bin/spark-cluster for real JVMs). */
    private int trainingDistributed() throws Exception {
        try (SparkSessions.Owned s = SparkSessions.open("sparkformers bench training-distributed")) {
            var comparison = DistributedTrainingBenchmark.compare(
                    s.spark(), List.of(1, workers), 8, 128, distSteps, distRounds, ddpPeer);
            var results = comparison.runs();
            var peer = comparison.peerRuns();
            if (common.json) {
                ObjectNode report = Json.MAPPER
                        .createObjectNode()
                        .put("benchmark", "training-distributed")
                        .put("master", s.spark().sparkContext().master())
                        .put("rounds", distRounds)
                        .put("warmup_steps", DistributedTrainingBenchmark.WARMUP_STEPS);
                report.set("runs", Json.MAPPER.valueToTree(results));
                if (!peer.isEmpty()) {
                    report.set("peer_ddp_runs", Json.MAPPER.valueToTree(peer));
                    report.put(
                            "peer_ddp_speedup",
                            peer.get(1).loopSamplesPerSecond() / peer.get(0).loopSamplesPerSecond());
                    report.set("round_scaling_ratios", Json.MAPPER.valueToTree(comparison.roundRatios()));
                    report.put("round_scaling_median", comparison.medianRoundRatio());
                }
                System.out.println(Json.MAPPER.writeValueAsString(report));
            } else {
                System.out.printf(
                        "training-distributed: all-MiniLM-L6-v2, per-device batch 8 x 128 tokens, %d steps, "
                                + "master %s; medians of %d interleaved rounds after a %d-step warm-up fit%n",
                        distSteps,
                        s.spark().sparkContext().master(),
                        distRounds,
                        DistributedTrainingBenchmark.WARMUP_STEPS);
                System.out.printf(
                        "%7s %6s %9s %12s %12s %10s %7s%n",
                        "workers", "batch", "fit s", "samples/s", "compute ms", "comm ms", "comm %");
                for (var r : results) {
                    System.out.printf(
                            "%7d %6d %9.1f %12.2f %12.0f %10.0f %6.1f%%%n",
                            r.workers(),
                            r.globalBatch(),
                            r.fitSeconds(),
                            r.loopSamplesPerSecond(),
                            r.computeMsPerStep(),
                            r.commMsPerStep(),
                            100 * r.commFraction());
                }
                System.out.printf(
                        "speed-up %d vs 1 worker: %.2fx samples/s%n",
                        workers,
                        results.get(1).loopSamplesPerSecond() / results.get(0).loopSamplesPerSecond());
                if (!peer.isEmpty()) {
                    double ours = results.get(1).loopSamplesPerSecond()
                            / results.get(0).loopSamplesPerSecond();
                    double ddp =
                            peer.get(1).loopSamplesPerSecond() / peer.get(0).loopSamplesPerSecond();
                    System.out.printf(
                            "  peer PyTorch DDP (gloo, this host, 1 thread per process): %.2f vs %.2f samples/s,"
                                    + " speed-up %.2fx; ours/DDP scaling %.2f (goal >= 1.0: %s)%n",
                            peer.get(1).loopSamplesPerSecond(),
                            peer.get(0).loopSamplesPerSecond(),
                            ddp,
                            ours / ddp,
                            ours >= ddp ? "held" : "not held");
                    System.out.printf(
                            "  per round ours/DDP scaling (paired):%s, median %.2f%n",
                            roundRatios(comparison), comparison.medianRoundRatio());
                }
            }
        }
        return 0;
    }

    /**
     * Spark's task slots set the PyTorch threads here (spark.task.cpus each), so --threads does not apply: ONNX
     * Runtime gets as many intra-op threads as the bare loop's PyTorch. Then the executor peak-RSS cases, each its own
     * local-cluster application, after the first session has stopped.
     */
    private int inferenceSpark() throws Exception {
        int maxLength = 256;
        int maxTokens = 8192;
        int batch = 128;
        InferenceBenchmark.Result r;
        double onnxSeconds;
        int ortThreads;
        try (SparkSessions.Owned s = SparkSessions.open("sparkformers bench inference-spark")) {
            // the executor (this JVM in local mode) sizes PyTorch's pool from spark.task.cpus: ORT gets the same
            int taskCpus = s.spark().sparkContext().getConf().getInt("spark.task.cpus", 1);
            ortThreads = Integer.parseInt(System.getProperty("ai.djl.pytorch.num_threads", Integer.toString(taskCpus)));
            InferenceBenchmark.Rounds rr = InferenceBenchmark.run(
                    s.spark(),
                    "all-MiniLM-L6-v2",
                    rows,
                    maxLength,
                    maxTokens,
                    batch,
                    rounds,
                    () -> OnnxEmbeddingLoop.seconds(
                            "all-MiniLM-L6-v2",
                            InferenceBenchmark.texts(rows, 17),
                            maxLength,
                            1024,
                            maxTokens,
                            batch,
                            ortThreads));
            r = rr.result();
            onnxSeconds = rr.peerSeconds();
        }
        List<ExecutorMemoryBenchmark.Case> rss = rssRows <= 0
                ? List.of()
                : ExecutorMemoryBenchmark.run("all-MiniLM-L6-v2", rssRows, maxLength, maxTokens, batch, 1, 2);
        if (common.json) {
            ObjectNode o = Json.MAPPER
                    .createObjectNode()
                    .put("benchmark", "inference-spark")
                    .put("rows", r.rows())
                    .put("master", r.master())
                    .put("torch_threads", r.torchThreads())
                    .put("onnx_threads", ortThreads)
                    .put("rounds", rounds)
                    .put("spark_seconds", r.sparkSeconds())
                    .put("bare_seconds", r.bareSeconds())
                    .put("onnx_seconds", onnxSeconds)
                    .put("spark_over_bare", r.ratio())
                    .put("spark_over_onnx", r.sparkSeconds() / onnxSeconds)
                    .put("bare_over_onnx", r.bareSeconds() / onnxSeconds)
                    .put("padding_efficiency_sorted", r.paddingEfficiencySorted())
                    .put("padding_efficiency_unsorted", r.paddingEfficiencyUnsorted());
            ArrayNode cases = o.putArray("executor_peak_rss");
            for (var c : rss) {
                cases.addObject()
                        .put("task_slots", c.slots())
                        .put("rows", rssRows)
                        .put("vm_hwm_kb", c.peakRssKb())
                        .put("model_loads", c.modelLoads())
                        .put("seconds", c.seconds());
            }
            System.out.println(o);
        } else {
            System.out.printf(
                    "inference-spark: %d rows of all-MiniLM-L6-v2 sentence embeddings, master %s, torch "
                            + "threads %s, ONNX Runtime threads %d%n",
                    r.rows(), r.master(), r.torchThreads(), ortThreads);
            System.out.printf("  %-28s %9s %9s %12s%n", "path", "seconds", "rows/s", "time ratio");
            System.out.printf(
                    "  %-28s %9.2f %9.1f %12s%n",
                    "spark (SentenceEmbedder)", r.sparkSeconds(), r.rows() / r.sparkSeconds(), "1.00");
            System.out.printf(
                    "  %-28s %9.2f %9.1f %12.2f%n",
                    "bare in-process loop",
                    r.bareSeconds(),
                    r.rows() / r.bareSeconds(),
                    r.bareSeconds() / r.sparkSeconds());
            System.out.printf(
                    "  %-28s %9.2f %9.1f %12.2f%n",
                    "ONNX Runtime, same batches", onnxSeconds, r.rows() / onnxSeconds, onnxSeconds / r.sparkSeconds());
            System.out.printf(
                    "  spark/bare %.2f, spark/onnx %.2f, bare/onnx %.2f (time; below 1: the first is faster)%n",
                    r.ratio(), r.sparkSeconds() / onnxSeconds, r.bareSeconds() / onnxSeconds);
            System.out.printf(
                    "  padding efficiency (real/processed tokens): %.3f length-sorted, %.3f in row order%n",
                    r.paddingEfficiencySorted(), r.paddingEfficiencyUnsorted());
            for (var c : rss) {
                System.out.printf(
                        "  executor peak RSS (VmHWM), %d task slot%s, %d rows: %.0f MiB (%d model load%s, "
                                + "%.1f s)%n",
                        c.slots(),
                        c.slots() == 1 ? "" : "s",
                        rssRows,
                        c.peakRssKb() / 1024.0,
                        c.modelLoads(),
                        c.modelLoads() == 1 ? "" : "s",
                        c.seconds());
            }
        }
        return 0;
    }
}
