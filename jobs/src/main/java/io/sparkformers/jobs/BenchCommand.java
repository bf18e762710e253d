package io.sparkformers.jobs;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import io.sparkformers.jobs.bench.ExecutorMemoryBenchmark;
import io.sparkformers.jobs.bench.DistributedTrainingBenchmark;
import io.sparkformers.jobs.bench.ForwardBenchmark;
import io.sparkformers.jobs.bench.LoadBenchmark;
import io.sparkformers.jobs.bench.TrainingBenchmark;
import io.sparkformers.jobs.bench.OnnxEmbeddingLoop;
import io.sparkformers.nn.Task;
import io.sparkformers.spark.InferenceBenchmark;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code sparkformers bench <name|all>}: benchmarks that print ratios against a peer measured in the same run.
 * Names: {@code load} (bert-base-uncased load time), {@code forward} (encoder throughput vs ONNX Runtime),
 * {@code training} (fine-tuning samples/s with the forward/backward/optimizer split and native memory over the steps),
 * {@code inference-spark} (sentence embeddings through Spark vs the bare in-process loop, and ONNX Runtime on the
 * same rows and batches, padding efficiency, executor peak RSS with 1 vs 2 task slots; named explicitly, not part of
 * {@code all}, as it starts Spark), {@code training-distributed} (data-parallel fine-tuning
 * samples/s with 1 vs N workers on the session's cluster, per-step compute/communication split; named explicitly).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Run benchmarks; every figure is a ratio to a peer measured in the same run.")
public final class BenchCommand implements Callable<Integer> {
    static final List<String> NAMES = List.of("load", "forward", "training", "inference-spark", "training-distributed");

    @Mixin
    CommonOptions common;

    @Parameters(paramLabel = "NAME", defaultValue = "all", description = "One of: load, forward, training, all (those three), inference-spark.")
    String name;

    @Option(names = "--threads", description = "Intra-op threads for both engines (default: all cores).")
    int threads = Runtime.getRuntime().availableProcessors();

    @Option(names = "--iterations", defaultValue = "10", description = "Timed runs per case (median reported).")
    int iterations;

    @Option(names = "--rows", defaultValue = "2000", description = "inference-spark: rows to score (default ${DEFAULT-VALUE}).")
    int rows;

    @Option(names = "--steps", defaultValue = "1000",
            description = "training: timed optimizer steps (default ${DEFAULT-VALUE}); RSS is read before, half-way, after.")
    int steps;

    @Option(names = "--batch", defaultValue = "16", description = "training: batch size (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--rss-rows", defaultValue = "512", description = "inference-spark: rows scored by each executor "
            + "peak-RSS case (1 and 2 task slots, a local-cluster application each; 0 skips them; default "
            + "${DEFAULT-VALUE}).")
    int rssRows;

    @Override
    public Integer call() throws Exception {
        if (!name.equals("all") && !NAMES.contains(name)) {
            throw new IllegalArgumentException("unknown benchmark '" + name + "' (names: " + String.join(", ", NAMES) + ", all)");
        }
        if (name.equals("inference-spark")) return inferenceSpark();
        if (name.equals("training-distributed")) return trainingDistributed();
        // process-wide and read once when the engine starts: set before any DJL use
        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        ObjectNode report = Json.MAPPER.createObjectNode();
        report.put("cores", Runtime.getRuntime().availableProcessors()).put("threads", threads);
        if (name.equals("all") || name.equals("load")) {
            LoadBenchmark.Result r = LoadBenchmark.run("bert-base-uncased", Task.MASKED_LM, 3);
            report.putPOJO("load", r);
            if (!common.json) {
                System.out.printf("load bert-base-uncased (%,d params): %.0f ms (one-time import from the jar: %.1f s)%n",
                        r.parameters(), r.loadMillis(), r.importSeconds());
            }
        }
        if (name.equals("all") || name.equals("forward")) {
            ArrayNode rows = report.putArray("forward");
            if (!common.json) {
                System.out.printf("%-18s %5s %5s %8s %10s %10s %12s %8s%n", "model", "batch", "seq", "threads",
                        "ours ms", "ORT ms", "ours tok/s", "ratio");
            }
            ForwardBenchmark.Result r = ForwardBenchmark.run("all-MiniLM-L6-v2", 32, 128, threads, 3, iterations);
            ObjectNode row = Json.MAPPER.valueToTree(r);
            row.put("oursSequencesPerSecond", r.oursSequencesPerSecond()).put("onnxSequencesPerSecond", r.onnxSequencesPerSecond())
                    .put("oursTokensPerSecond", r.oursTokensPerSecond()).put("ratioToOnnxRuntime", r.ratioToOnnxRuntime());
            rows.add(row);
            if (!common.json) {
                System.out.printf("%-18s %5d %5d %8d %10.1f %10.1f %12.0f %7.2fx%n", r.model(), r.batch(), r.seqLength(),
                        r.threads(), r.oursMsPerBatch(), r.onnxMsPerBatch(), r.oursTokensPerSecond(), r.ratioToOnnxRuntime());
            }
        }
        if (name.equals("all") || name.equals("training")) {
            if (steps <= 0) throw new IllegalArgumentException("--steps must be > 0 but was " + steps);
            TrainingBenchmark.Result r = TrainingBenchmark.run("all-MiniLM-L6-v2", batch, 128, threads, 3, steps);
            ObjectNode row = Json.MAPPER.valueToTree(r);
            row.put("stepMs", r.stepMs()).put("samplesPerSecond", r.samplesPerSecond())
                    .put("tokensPerSecond", r.tokensPerSecond()).put("rssGrowthMib", r.rssGrowthMib());
            report.set("training", row);
            if (!common.json) {
                System.out.printf("training %s %dx%d, %d threads, %d steps: %.1f samples/s, %.0f tokens/s; per step "
                        + "%.0f ms = forward %.0f + backward %.0f + optimizer %.0f ms%n", r.model(), r.batch(),
                        r.seqLength(), r.threads(), r.steps(), r.samplesPerSecond(), r.tokensPerSecond(), r.stepMs(),
                        r.forwardMs(), r.backwardMs(), r.optimizerMs());
                System.out.printf("native memory (VmRSS): %.0f MiB after warm-up, %.0f MiB half-way, %.0f MiB at the "
                        + "end (%+.1f MiB over %d steps)%n", r.rssAfterWarmupKb() / 1024.0, r.rssMidKb() / 1024.0,
                        r.rssEndKb() / 1024.0, r.rssGrowthMib(), r.steps());
            }
        }
        if (common.json) System.out.println(Json.MAPPER.writeValueAsString(report));
        return 0;
    }

    @Option(names = "--workers", defaultValue = "2",
            description = "training-distributed: workers of the data-parallel run compared with 1 (default ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--dist-steps", defaultValue = "20",
            description = "training-distributed: optimizer steps per run (default ${DEFAULT-VALUE}).")
    int distSteps;

    /** 1 vs {@code --workers} replicas on the executors of the launcher's master (bin/spark-cluster for real JVMs). */
    private int trainingDistributed() throws Exception {
        try (SparkSessions.Owned s = SparkSessions.open("sparkformers bench training-distributed")) {
            var results = DistributedTrainingBenchmark.run(s.spark(), List.of(1, workers), 8, 128, distSteps);
            if (common.json) {
                ObjectNode report = Json.MAPPER.createObjectNode().put("benchmark", "training-distributed")
                        .put("master", s.spark().sparkContext().master());
                report.set("runs", Json.MAPPER.valueToTree(results));
                System.out.println(Json.MAPPER.writeValueAsString(report));
            } else {
                System.out.printf("training-distributed: all-MiniLM-L6-v2, per-device batch 8 x 128 tokens, %d steps, "
                        + "master %s%n", distSteps, s.spark().sparkContext().master());
                System.out.printf("%7s %6s %9s %12s %12s %10s %7s%n", "workers", "batch", "fit s", "samples/s",
                        "compute ms", "comm ms", "comm %");
                for (var r : results) {
                    System.out.printf("%7d %6d %9.1f %12.2f %12.0f %10.0f %6.1f%%%n", r.workers(), r.globalBatch(),
                            r.fitSeconds(), r.loopSamplesPerSecond(), r.computeMsPerStep(), r.commMsPerStep(),
                            100 * r.commFraction());
                }
                System.out.printf("speed-up %d vs 1 worker: %.2fx samples/s%n", workers,
                        results.get(1).loopSamplesPerSecond() / results.get(0).loopSamplesPerSecond());
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
            r = InferenceBenchmark.run(s.spark(), "all-MiniLM-L6-v2", rows, maxLength, maxTokens, batch);
            ortThreads = r.torchThreads().equals("default") ? Runtime.getRuntime().availableProcessors()
                    : Integer.parseInt(r.torchThreads());
            onnxSeconds = OnnxEmbeddingLoop.seconds("all-MiniLM-L6-v2", InferenceBenchmark.texts(rows, 17), maxLength,
                    1024, maxTokens, batch, ortThreads);
        }
        List<ExecutorMemoryBenchmark.Case> rss = rssRows <= 0 ? List.of()
                : ExecutorMemoryBenchmark.run("all-MiniLM-L6-v2", rssRows, maxLength, maxTokens, batch, 1, 2);
        if (common.json) {
            ObjectNode o = Json.MAPPER.createObjectNode().put("benchmark", "inference-spark")
                    .put("rows", r.rows()).put("master", r.master()).put("torch_threads", r.torchThreads())
                    .put("onnx_threads", ortThreads)
                    .put("spark_seconds", r.sparkSeconds()).put("bare_seconds", r.bareSeconds())
                    .put("onnx_seconds", onnxSeconds)
                    .put("spark_over_bare", r.ratio()).put("spark_over_onnx", r.sparkSeconds() / onnxSeconds)
                    .put("bare_over_onnx", r.bareSeconds() / onnxSeconds)
                    .put("padding_efficiency_sorted", r.paddingEfficiencySorted())
                    .put("padding_efficiency_unsorted", r.paddingEfficiencyUnsorted());
            ArrayNode cases = o.putArray("executor_peak_rss");
            for (var c : rss) {
                cases.addObject().put("task_slots", c.slots()).put("rows", rssRows).put("vm_hwm_kb", c.peakRssKb())
                        .put("model_loads", c.modelLoads()).put("seconds", c.seconds());
            }
            System.out.println(o);
        } else {
            System.out.printf("inference-spark: %d rows of all-MiniLM-L6-v2 sentence embeddings, master %s, torch "
                    + "threads %s, ONNX Runtime threads %d%n", r.rows(), r.master(), r.torchThreads(), ortThreads);
            System.out.printf("  %-28s %9s %9s %12s%n", "path", "seconds", "rows/s", "time ratio");
            System.out.printf("  %-28s %9.2f %9.1f %12s%n", "spark (SentenceEmbedder)", r.sparkSeconds(),
                    r.rows() / r.sparkSeconds(), "1.00");
            System.out.printf("  %-28s %9.2f %9.1f %12.2f%n", "bare in-process loop", r.bareSeconds(),
                    r.rows() / r.bareSeconds(), r.bareSeconds() / r.sparkSeconds());
            System.out.printf("  %-28s %9.2f %9.1f %12.2f%n", "ONNX Runtime, same batches", onnxSeconds,
                    r.rows() / onnxSeconds, onnxSeconds / r.sparkSeconds());
            System.out.printf("  spark/bare %.2f, spark/onnx %.2f, bare/onnx %.2f (time; below 1: the first is faster)%n",
                    r.ratio(), r.sparkSeconds() / onnxSeconds, r.bareSeconds() / onnxSeconds);
            System.out.printf("  padding efficiency (real/processed tokens): %.3f length-sorted, %.3f in row order%n",
                    r.paddingEfficiencySorted(), r.paddingEfficiencyUnsorted());
            for (var c : rss) {
                System.out.printf("  executor peak RSS (VmHWM), %d task slot%s, %d rows: %.0f MiB (%d model load%s, "
                        + "%.1f s)%n", c.slots(), c.slots() == 1 ? "" : "s", rssRows, c.peakRssKb() / 1024.0,
                        c.modelLoads(), c.modelLoads() == 1 ? "" : "s", c.seconds());
            }
        }
        return 0;
    }
}
