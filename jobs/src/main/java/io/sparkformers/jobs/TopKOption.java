package io.sparkformers.jobs;

import io.sparkformers.pipeline.PipelineOptions;
import java.util.Locale;
import picocli.CommandLine.Option;

/** {@code --top-k K|all}, one form for {@code pipeline} and {@code predict} (both clamp to the labels there are). */
public final class TopKOption {
    @Option(
            names = "--top-k",
            paramLabel = "K|all",
            description = "Results per input, or 'all' for every label: labels (text-classification; default 1, the "
                    + "best one; predict writes more than one to top_labels), candidates (fill-mask; default 5), "
                    + "answers (question-answering; default 1), classes (image-classification; default 5).")
    String text;

    /** The count, {@link PipelineOptions#ALL} for "all", or null for the task's default. */
    Integer value() {
        return parse(text);
    }

    static Integer parse(String v) {
        if (v == null) return null;
        if (v.strip().toLowerCase(Locale.ROOT).equals("all")) return PipelineOptions.ALL;
        try {
            int k = Integer.parseInt(v.strip());
            if (k > 0) return k;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("--top-k must be a positive number or 'all', got '" + v + "'");
    }
}
