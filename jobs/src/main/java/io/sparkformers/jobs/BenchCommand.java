package io.sparkformers.jobs;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import io.sparkformers.jobs.bench.ForwardBenchmark;
import io.sparkformers.jobs.bench.LoadBenchmark;
import io.sparkformers.nn.Task;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code sparkformers bench <name|all>}: benchmarks that print ratios against a peer measured in the same run.
 * Names: {@code load} (bert-base-uncased load time), {@code forward} (encoder throughput vs ONNX Runtime).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Run benchmarks; every figure is a ratio to a peer measured in the same run.")
public final class BenchCommand implements Callable<Integer> {
    static final List<String> NAMES = List.of("load", "forward");

    @Mixin
    CommonOptions common;

    @Parameters(paramLabel = "NAME", defaultValue = "all", description = "One of: load, forward, all.")
    String name;

    @Option(names = "--threads", description = "Intra-op threads for both engines (default: all cores).")
    int threads = Runtime.getRuntime().availableProcessors();

    @Option(names = "--iterations", defaultValue = "10", description = "Timed runs per case (median reported).")
    int iterations;

    @Override
    public Integer call() throws Exception {
        if (!name.equals("all") && !NAMES.contains(name)) {
            throw new IllegalArgumentException("unknown benchmark '" + name + "' (names: " + String.join(", ", NAMES) + ", all)");
        }
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
        if (common.json) System.out.println(Json.MAPPER.writeValueAsString(report));
        return 0;
    }
}
