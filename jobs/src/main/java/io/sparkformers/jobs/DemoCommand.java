package io.sparkformers.jobs;

import io.sparkformers.hub.Json;
import io.sparkformers.jobs.demo.SpamDemo;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code sparkformers demo}: the embedded default job — spam detection fine-tuned across 2 workers, end to end. */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = "Fine-tune all-MiniLM-L6-v2 on SpamAssassin emails with data-parallel workers, evaluate, score "
                + "the held-out split to Parquet, and write report.md + training_curves.png.")
public final class DemoCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Option(names = "--output", defaultValue = "out/demo", description = "Output folder (default ${DEFAULT-VALUE}).")
    Path output;

    @Option(names = "--train-rows", defaultValue = "800", description = "Training emails (default ${DEFAULT-VALUE}).")
    int trainRows;

    @Option(names = "--eval-rows", defaultValue = "400", description = "Held-out emails (default ${DEFAULT-VALUE}).")
    int evalRows;

    @Option(names = "--max-length", defaultValue = "128", description = "Tokens per email (default ${DEFAULT-VALUE}).")
    int maxLength;

    @Option(names = "--epochs", defaultValue = "1", description = "Training epochs (default ${DEFAULT-VALUE}).")
    double epochs;

    @Option(names = "--workers", defaultValue = "2", description = "Data-parallel workers (default ${DEFAULT-VALUE}).")
    int workers;

    @Override
    public Integer call() throws Exception {
        SpamDemo.Options d = SpamDemo.Options.defaults(output);
        SpamDemo.Options o = new SpamDemo.Options(
                output,
                d.model(),
                trainRows,
                evalRows,
                maxLength,
                epochs,
                workers,
                d.perDeviceBatch(),
                d.learningRate(),
                d.seed());
        try (SparkSessions.Owned s = SparkSessions.open("sparkformers demo")) {
            SpamDemo.Summary r = SpamDemo.run(s.spark(), o);
            if (common.json) {
                System.out.println(Json.line(r));
            } else {
                System.out.printf("%nspam detection on %d held-out emails (spam = positive)%n", (int) r.scoredRows());
                System.out.printf("  %-10s %10s %10s%n", "", "accuracy", "F1");
                System.out.printf(
                        "  %-10s %10.4f %10.4f%n",
                        "before", r.before().get("eval_accuracy"), r.before().get("eval_f1"));
                System.out.printf(
                        "  %-10s %10.4f %10.4f%n",
                        "after", r.after().get("eval_accuracy"), r.after().get("eval_f1"));
                System.out.printf(
                        "training %.0f s, scoring %.1f rows/s, wall time %.0f s%n",
                        r.trainSeconds(), r.rowsPerSecond(), r.wallSeconds());
                System.out.printf("report: %s%nmodel: %s%nscored: %s%n", r.report(), r.modelDir(), r.scored());
            }
        }
        return 0;
    }
}
