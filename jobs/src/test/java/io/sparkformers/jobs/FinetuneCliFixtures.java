package io.sparkformers.jobs;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/**
 * Shared set-up of the {@code finetune} CLI tests: lib's tiny checkpoints, a few real sentences of the Apache License,
 * a YAML config written from its lines, and the command run in a {@code local[2]} Spark session that is stopped after.
 */
final class FinetuneCliFixtures {
    private FinetuneCliFixtures() {}

    static final Path LIB_RESOURCES = Path.of("..", "lib", "src", "test", "resources");

    /** lib's seeded tiny GPT-2 (a base causal LM with its BPE tokenizer). */
    static final Path GPT2 = LIB_RESOURCES.resolve("generation").resolve("gpt2-tiny");

    /** lib's seeded tiny BART (an encoder-decoder with its tokenizer). */
    static final Path BART = LIB_RESOURCES.resolve("seq2seq").resolve("bart-tiny");

    /** Six sentences of the Apache License 2.0, the training rows of the CLI fine-tuning tests. */
    static final List<String> LICENSE_SENTENCES = List.of(
            "You must give any other recipients of the Work a copy of this License.",
            "You must cause any modified files to carry prominent notices stating that You changed the files.",
            "Licensor provides the Work on an AS IS BASIS, without warranties or conditions of any kind.",
            "This License does not grant permission to use the trade names of the Licensor.",
            "Each Contributor hereby grants to You a perpetual, worldwide, no-charge copyright license.",
            "The licensee may copy and distribute the Program in any medium.");

    /** Writes {@code lines} to {@code file}, one a line, and returns the file. */
    static Path yaml(Path file, String... lines) throws Exception {
        Files.writeString(file, String.join("\n", lines) + "\n");
        return file;
    }

    /**
     * {@code sparkformers finetune --config config --workers workers [flags]} in-process with {@code spark.master}
     * {@code local[2]} (as bin/sparkformers, through spark-submit, sets it; the data files are read with the same
     * session), the session the command made stopped afterwards.
     */
    static CliRun finetune(Path config, int workers, String... flags) {
        String[] args = new String[5 + flags.length];
        args[0] = "finetune";
        args[1] = "--config";
        args[2] = config.toString();
        args[3] = "--workers";
        args[4] = String.valueOf(workers);
        System.arraycopy(flags, 0, args, 5, flags.length);
        System.setProperty("spark.master", "local[2]");
        try {
            return CliRun.of(args);
        } finally {
            System.clearProperty("spark.master");
            SparkSession.getDefaultSession().foreach(s -> {
                s.stop();
                return null;
            });
        }
    }
}
