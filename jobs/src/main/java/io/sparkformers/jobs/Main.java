package io.sparkformers.jobs;

import io.sparkformers.spark.TaskFailures;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The single entry point of the jobs jar: {@code spark-submit --class io.sparkformers.jobs.Main jobs.jar <command> …}
 * ({@code bin/sparkformers} does that for you). Exit codes: 0 ok, 1 failed, 2 usage.
 */
@Command(
        name = "sparkformers",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description =
                "Hugging Face style transformers on Apache Spark: import and inspect models, run pipelines, fine-tune.",
        subcommands = {
            DemoCommand.class,
            ModelsCommand.class,
            PipelineCommand.class,
            PredictCommand.class,
            FinetuneCommand.class,
            EvaluateCommand.class,
            VisionTrainCommand.class,
            LanguageModelCommand.class,
            BenchCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {

    public static void main(String[] args) {
        int code = run(args);
        // SparkSubmit treats a returning main as success; a non-zero status must end the JVM ourselves
        if (code != 0) System.exit(code);
    }

    /** Runs a command line and returns its exit code (tests call this instead of {@link #main}). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler(new Failures());
        return cli.execute(args);
    }

    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"sparkformers " + io.sparkformers.Sparkformers.version()};
        }
    }

    /**
     * One clear line on stderr, last, and exit code 1; the stack trace (printed before it) only with
     * {@code --verbose}. A Spark job that failed on bad input is reported by the task's own sentence.
     */
    static final class Failures implements CommandLine.IExecutionExceptionHandler {
        @Override
        public int handleExecutionException(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
            boolean verbose = parsed.hasMatchedOption("--verbose")
                    || parsed.subcommands().stream().anyMatch(p -> p.hasMatchedOption("--verbose"))
                    || (parsed.subcommand() != null
                            && parsed.subcommand().subcommand() != null
                            && parsed.subcommand().subcommand().hasMatchedOption("--verbose"));
            if (verbose) e.printStackTrace(cmd.getErr());
            cmd.getErr().println("error: " + TaskFailures.userMessage(e)); // last: what the user reads
            cmd.getErr().flush();
            return 1;
        }
    }
}
