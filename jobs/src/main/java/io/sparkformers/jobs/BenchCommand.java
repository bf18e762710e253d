package io.sparkformers.jobs;

import io.sparkformers.hub.Json;
import io.sparkformers.spark.InferenceBenchmark;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code sparkformers bench <name>}: benchmarks that print numbers (one sub-command per benchmark). */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Run a benchmark and print its numbers.",
        subcommands = {BenchCommand.InferenceSpark.class})
public final class BenchCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(name = "inference-spark", mixinStandardHelpOptions = true,
            description = "Sentence embeddings over generated rows of mixed length: Spark (SentenceEmbedder, default "
                    + "master local[2]) vs the bare in-process loop on the same rows and batching; padding efficiency "
                    + "with and without length sorting.")
    static final class InferenceSpark implements Callable<Integer> {
        @Mixin
        CommonOptions common;

        @Option(names = "--rows", defaultValue = "2000", description = "Rows to score (default ${DEFAULT-VALUE}).")
        int rows;

        @Option(names = "--model", defaultValue = "all-MiniLM-L6-v2", description = "Model (default ${DEFAULT-VALUE}).")
        String model;

        @Option(names = "--max-length", defaultValue = "256", description = "Tokens per row (default ${DEFAULT-VALUE}).")
        int maxLength;

        @Option(names = "--max-tokens-per-batch", defaultValue = "8192",
                description = "Token budget per batch (default ${DEFAULT-VALUE}).")
        int maxTokens;

        @Option(names = "--batch-size", defaultValue = "128", description = "Rows per batch (default ${DEFAULT-VALUE}).")
        int batchSize;

        @Override
        public Integer call() throws Exception {
            try (SparkSessions.Owned s = SparkSessions.open("sparkformers bench inference-spark")) {
                var r = InferenceBenchmark.run(s.spark(), model, rows, maxLength, maxTokens, batchSize);
                if (common.json) {
                    System.out.println(Json.MAPPER.createObjectNode().put("benchmark", "inference-spark")
                            .put("rows", r.rows()).put("master", r.master()).put("torch_threads", r.torchThreads())
                            .put("spark_seconds", r.sparkSeconds()).put("bare_seconds", r.bareSeconds())
                            .put("spark_over_bare", r.ratio())
                            .put("padding_efficiency_sorted", r.paddingEfficiencySorted())
                            .put("padding_efficiency_unsorted", r.paddingEfficiencyUnsorted()).toString());
                } else {
                    System.out.printf("inference-spark: %d rows, master %s, torch threads %s%n", r.rows(), r.master(),
                            r.torchThreads());
                    System.out.printf("  spark  %.2f s (%.1f rows/s)%n", r.sparkSeconds(), r.rows() / r.sparkSeconds());
                    System.out.printf("  bare   %.2f s (%.1f rows/s), spark/bare time ratio %.2f%n", r.bareSeconds(),
                            r.rows() / r.bareSeconds(), r.ratio());
                    System.out.printf("  padding efficiency: %.3f sorted, %.3f unsorted%n", r.paddingEfficiencySorted(),
                            r.paddingEfficiencyUnsorted());
                }
            }
            return 0;
        }
    }
}
