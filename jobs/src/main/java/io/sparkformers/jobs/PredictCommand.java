package io.sparkformers.jobs;

import io.sparkformers.hub.Json;
import io.sparkformers.spark.BatchScoring;
import io.sparkformers.spark.Devices;
import io.sparkformers.spark.ModelStage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code sparkformers predict}: batch scoring of lake files through Spark; parses flags and calls BatchScoring. */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = "Score a table (Parquet, CSV/TSV with header, JSON lines) with a model through Spark; every "
                + "input column is kept and the task's output column appended.")
public final class PredictCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Option(names = "--task", required = true, description = "sentence-embeddings, feature-extraction or fill-mask.")
    String task;

    @Option(names = "--model", required = true, paramLabel = "REF",
            description = "A checkpoint folder, a Hadoop URI of one, or a built-in alias (see `models list`).")
    String model;

    @Option(names = "--input", required = true, paramLabel = "PATH", description = "Input file or folder.")
    String input;

    @Option(names = "--output", required = true, paramLabel = "PATH", description = "Output folder.")
    String output;

    @Option(names = "--input-format", description = "parquet, csv, tsv or json (default: from the extension, else parquet).")
    String inputFormat;

    @Option(names = "--output-format", description = "parquet, csv, tsv or json (default: from the extension, else "
            + "parquet); CSV/TSV hold arrays, structs and vectors as JSON strings.")
    String outputFormat;

    @Option(names = "--text-col", defaultValue = "text", description = "Text column (default ${DEFAULT-VALUE}).")
    String textCol;

    @Option(names = "--output-col", description = "Output column (default: the task's, e.g. embedding).")
    String outputCol;

    @Option(names = "--mode", defaultValue = "errorifexists",
            description = "errorifexists (default), overwrite or append.")
    String mode;

    @Option(names = "--max-length", defaultValue = "512", description = "Tokens kept per text (default ${DEFAULT-VALUE}).")
    int maxLength;

    @Option(names = "--batch-size", defaultValue = "256", description = "Rows per batch at most (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--max-tokens-per-batch", defaultValue = "16384",
            description = "Padded tokens per batch at most (default ${DEFAULT-VALUE}).")
    int maxTokensPerBatch;

    @Option(names = "--device", defaultValue = Devices.AUTO, description = "auto (default), cpu or gpu.")
    String device;

    @Option(names = "--handle-invalid", defaultValue = ModelStage.ERROR,
            description = "Null/empty/blank texts: error (default), skip or keep (reason in <output-col>_error).")
    String handleInvalid;

    @Option(names = "--output-type", defaultValue = "vector",
            description = "sentence-embeddings: vector (default) or array.")
    String outputType;

    @Option(names = "--top-k", defaultValue = "5", description = "fill-mask: candidates per mask (default ${DEFAULT-VALUE}).")
    int topK;

    @Override
    public Integer call() throws Exception {
        var options = new BatchScoring.Options(task, model, input, output, inputFormat, outputFormat, textCol, outputCol,
                mode, maxLength, batchSize, maxTokensPerBatch, device, handleInvalid, outputType, topK);
        BatchScoring.stageFor(options);                    // an unknown task fails before Spark starts
        try (SparkSessions.Owned s = SparkSessions.open("sparkformers predict " + task)) {
            BatchScoring.Result r = BatchScoring.run(s.spark(), options);
            if (common.json) {
                System.out.println(Json.MAPPER.createObjectNode().put("output", output).put("format", r.outputFormat())
                        .put("rows", r.rows()).put("seconds", r.seconds())
                        .put("padding_efficiency", r.metrics().paddingEfficiency()).toString());
            } else {
                System.out.printf("%s -> %s (%s): %d rows in %.1f s; %s%n", input, output, r.outputFormat(), r.rows(),
                        r.seconds(), r.metrics().summary());
            }
        }
        return 0;
    }
}
