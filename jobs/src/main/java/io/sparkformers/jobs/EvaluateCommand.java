package io.sparkformers.jobs;

import io.sparkformers.hub.Json;
import io.sparkformers.jobs.config.FinetuneConfig;
import io.sparkformers.train.TextDataset;
import io.sparkformers.train.Trainer;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code sparkformers evaluate --model <ref> --data PATH --text-col … --label-col … [--json]}: HF
 * {@code Trainer.evaluate} of a fine-tuned checkpoint on labelled rows; labels and problem type from its config.
 */
@Command(
        name = "evaluate",
        mixinStandardHelpOptions = true,
        description = "Evaluate a fine-tuned checkpoint on labelled rows and print the metrics.")
public final class EvaluateCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Option(names = "--model", required = true, paramLabel = "REF", description = "A fine-tuned checkpoint folder.")
    String model;

    @Option(
            names = "--data",
            required = true,
            paramLabel = "PATH",
            description = "parquet/csv/tsv/json/jsonl file or folder, or spam-assassin (its eval split).")
    String data;

    @Option(names = "--format", description = "parquet, csv, tsv, json or jsonl (default: from the extension).")
    String format;

    @Option(names = "--text-col", defaultValue = "text", description = "Text column (default ${DEFAULT-VALUE}).")
    String textCol;

    @Option(names = "--text-pair-col", description = "Second-segment column, if any.")
    String textPairCol;

    @Option(names = "--label-col", defaultValue = "label", description = "Label column (default ${DEFAULT-VALUE}).")
    String labelCol;

    @Option(
            names = "--max-length",
            defaultValue = "128",
            description = "Tokens kept per row (default ${DEFAULT-VALUE}).")
    int maxLength;

    @Option(names = "--limit", defaultValue = "-1", description = "First n rows only (default: all).")
    int limit;

    @Option(
            names = "--batch-size",
            defaultValue = "32",
            description = "Rows per forward pass (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Override
    public Integer call() throws Exception {
        if (batchSize <= 0) throw new IllegalArgumentException("--batch-size must be > 0 but was " + batchSize);
        FinetuneConfig.Data d =
                new FinetuneConfig.Data(data, null, format, textCol, textPairCol, labelCol, maxLength, limit, limit);
        TextDataset rows = DataSources.read(data, true, d, limit);
        Map<String, Double> metrics = Trainer.evaluate(PipelineCommand.resolveModel(model), rows, maxLength, batchSize);
        if (common.json) {
            System.out.println(Json.line(metrics));
        } else {
            metrics.forEach((k, v) -> System.out.printf("%-32s %s%n", k, v));
        }
        return 0;
    }
}
