package io.sparkformers.jobs;

import picocli.CommandLine.Option;

/** Options every command takes. */
public final class CommonOptions {
    @Option(names = "--json", description = "Print machine-readable JSON only.")
    boolean json;

    @Option(names = "--verbose", description = "Print stack traces and engine logs.")
    boolean verbose;
}
