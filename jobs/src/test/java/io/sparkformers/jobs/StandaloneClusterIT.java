package io.sparkformers.jobs;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The README's cluster transcript, reproduced: {@code bin/spark-cluster start} (a master and 2 worker JVMs on
 * loopback), then {@code bin/sparkformers --master spark://…} runs {@code predict} and {@code finetune --workers 2}
 * on the packaged jobs jar, then {@code bin/spark-cluster stop}.
 */
class StandaloneClusterIT {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    static final String MASTER = "spark://127.0.0.1:7187";
    static Path work;

    @BeforeAll
    static void start() throws Exception {
        work = Files.createTempDirectory("standalone-it");
        Result r = run(120, "bin/spark-cluster", "start", "--workers", "2", "--cores", "1", "--memory", "3g", "--port", "7187");
        assertEquals(0, r.code(), r.output());
        assertTrue(r.output().contains(MASTER), r.output());
    }

    @AfterAll
    static void stop() throws Exception {
        run(60, "bin/spark-cluster", "stop");
    }

    @Test
    void predictScoresAFileOnTheCluster() throws Exception {
        Path input = work.resolve("emails.jsonl");
        Files.writeString(input, """
                {"id": 1, "text": "Win a free cruise, click now!"}
                {"id": 2, "text": "The build is green again, thanks for the fix."}
                {"id": 3, "text": "Lunch at noon?"}
                """);
        Path out = work.resolve("embeddings");
        Result r = run(600, "bin/sparkformers", "--master", MASTER, "predict", "--task", "sentence-embeddings",
                "--model", "all-MiniLM-L6-v2", "--input", input.toString(), "--input-format", "json",
                "--output", out.toString(), "--output-format", "json");
        assertEquals(0, r.code(), r.output());
        List<String> lines = new ArrayList<>();
        try (Stream<Path> parts = Files.list(out)) {
            for (Path p : parts.filter(p -> p.getFileName().toString().startsWith("part-")).toList()) {
                lines.addAll(Files.readAllLines(p));
            }
        }
        assertEquals(3, lines.size(), "one output row per input row");
        assertTrue(lines.stream().allMatch(l -> l.contains("\"embedding\"") && l.contains("\"text\"")), lines.get(0));
    }

    @Test
    void finetuneTrainsWithTwoWorkersOnTheCluster() throws Exception {
        Path out = work.resolve("finetuned");
        Result r = run(900, "bin/sparkformers", "--master", MASTER, "finetune", "--config", "conf/finetune-distributed.yaml",
                "--workers", "2", "--set", "data.limit=32", "--set", "data.eval_limit=16", "--set", "data.max_length=32",
                "--set", "training.num_train_epochs=1", "--set", "training.save_steps=100",
                "--set", "training.output_dir=" + out);
        assertEquals(0, r.code(), r.output());
        assertTrue(Files.isRegularFile(out.resolve("model.safetensors")), r.output());
        assertTrue(Files.isRegularFile(out.resolve("eval_results.json")), r.output());
        String state = Files.readString(out.resolve("trainer_state.json"));
        assertTrue(state.contains("\"global_step\""), state);
    }

    record Result(int code, String output) {}

    static Result run(int timeoutSeconds, String... command) throws IOException, InterruptedException {
        Path log = Files.createTempFile(work == null ? Path.of(System.getProperty("java.io.tmpdir")) : work, "run", ".log");
        ProcessBuilder pb = new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Map<String, String> env = pb.environment();
        env.put("SPARKFORMERS_HOME", ROOT.resolve("jobs/target/sparkformers-home").toString());
        env.put("SPARKFORMERS_DRIVER_MEMORY", "3g");
        env.remove("SPARK_HOME");                       // the Maven-assembled Spark jars, not a local distribution
        Process p = pb.start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(-1, "timed out after " + timeoutSeconds + " s: " + Files.readString(log, StandardCharsets.UTF_8));
        }
        return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }
}
