package io.sparkformers.jobs;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

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
 * The README's cluster transcript, reproduced on a cluster whose executors are what most YARN and Kubernetes
 * executors are — machines that cannot fetch models: {@code bin/spark-cluster start} (a master and 2 worker JVMs on
 * loopback) runs with an empty account home, an empty Sparkformers home and a {@code PATH} that holds no {@code mvn},
 * {@code npm} or {@code apt-get}; executors get {@code -Duser.home} of that empty home. Then
 * {@code bin/sparkformers --master spark://…} runs {@code predict} with a built-in alias and with a folder that only
 * the driver has, and {@code finetune --workers 2} with an alias, on the packaged jobs jar. Last, the executors' logs
 * and homes show that no executor fetched anything: every model reached them from the driver.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StandaloneClusterIT {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    static final String MASTER = "spark://127.0.0.1:7187";
    /**
     * What the workers and executors may use: the shell tools of bin/spark-cluster and of Hadoop's local file system
     * (chmod, stat, df…), and a JVM; no package client.
     */
    static final List<String> TOOLS = List.of("bash", "sh", "env", "seq", "grep", "sleep", "mkdir", "nohup", "cat",
            "rm", "sed", "basename", "dirname", "ls", "ps", "chmod", "chown", "chgrp", "cp", "mv", "ln", "stat", "df",
            "du", "id", "groups", "whoami", "uname", "readlink", "touch", "tr", "head", "tail", "wc", "sort", "find",
            "xargs", "hostname");
    static Path work;
    static Path clusterDir;
    static Path executorHome;
    static Path executorSparkformersHome;

    @BeforeAll
    static void start() throws Exception {
        work = Files.createTempDirectory("standalone-it");
        clusterDir = work.resolve("cluster");
        executorHome = Files.createDirectories(work.resolve("executor-home"));
        executorSparkformersHome = Files.createDirectories(work.resolve("executor-sparkformers-home"));
        Path bin = Files.createDirectories(work.resolve("bin"));
        for (String tool : TOOLS) {
            var real = Stream.of("/usr/bin", "/bin").map(d -> Path.of(d, tool)).filter(Files::isExecutable).findFirst();
            if (real.isPresent()) Files.createSymbolicLink(bin.resolve(tool), real.get());
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Files.createSymbolicLink(bin.resolve("java"), java);
        Result r = run(120, Map.of("PATH", bin.toString(), "HOME", executorHome.toString(),
                        "JAVA_HOME", System.getProperty("java.home"),
                        "SPARKFORMERS_HOME", executorSparkformersHome.toString()),
                "bin/spark-cluster", "start", "--workers", "2", "--cores", "1", "--memory", "3g", "--port", "7187");
        assertEquals(0, r.code(), r.output());
        assertTrue(r.output().contains(MASTER), r.output());
        for (String client : List.of("mvn", "npm", "apt-get")) {
            assertFalse(Files.exists(bin.resolve(client)), client + " must not be on the executors' PATH");
        }
    }

    @AfterAll
    static void stop() throws Exception {
        run(60, Map.of(), "bin/spark-cluster", "stop");
        try (Stream<Path> walk = Files.walk(work)) {           // the executors' home holds ~450 MB of libtorch
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            System.err.println("StandaloneClusterIT: could not remove " + work + ": " + e);   // a worker still exiting
        }
    }

    /** bin/sparkformers against the cluster, executors with the empty home as user.home. */
    static Result submit(int timeoutSeconds, String... command) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>(List.of("bin/sparkformers", "--master", MASTER, "--conf",
                "spark.executor.extraJavaOptions=-Dai.djl.offline=true -Duser.home=" + executorHome));
        full.addAll(List.of(command));
        return run(timeoutSeconds, Map.of(), full.toArray(String[]::new));
    }

    static Path emails() throws IOException {
        Path input = work.resolve("emails.jsonl");
        Files.writeString(input, """
                {"id": 1, "text": "Win a free cruise, click now!"}
                {"id": 2, "text": "The build is green again, thanks for the fix."}
                {"id": 3, "text": "Lunch at noon?"}
                """);
        return input;
    }

    static List<String> parts(Path out) throws IOException {
        List<String> lines = new ArrayList<>();
        try (Stream<Path> parts = Files.list(out)) {
            for (Path p : parts.filter(p -> p.getFileName().toString().startsWith("part-")).toList()) {
                lines.addAll(Files.readAllLines(p));
            }
        }
        return lines;
    }

    @Test
    @Order(1)
    void predictWithABuiltInAliasScoresAFileOnTheCluster() throws Exception {
        Path out = work.resolve("embeddings");
        Result r = submit(600, "predict", "--task", "sentence-embeddings", "--model", "all-MiniLM-L6-v2",
                "--input", emails().toString(), "--input-format", "json", "--output", out.toString(),
                "--output-format", "json");
        assertEquals(0, r.code(), r.output());
        List<String> lines = parts(out);
        assertEquals(3, lines.size(), "one output row per input row");
        assertTrue(lines.stream().allMatch(l -> l.contains("\"embedding\"") && l.contains("\"text\"")), lines.get(0));
    }

    @Test
    @Order(2)
    void predictWithAFolderOnlyTheDriverHasScoresAFileOnTheCluster() throws Exception {
        Path alias = ROOT.resolve("jobs/target/sparkformers-home/models/all-MiniLM-L6-v2");   // imported by test 1
        assertTrue(Files.isRegularFile(alias.resolve("model.safetensors")), "the driver imported the alias: " + alias);
        Path driverOnly = work.resolve("driver-home/classifier-base");
        try (Stream<Path> files = Files.walk(alias)) {
            for (Path f : files.toList()) {
                Path to = driverOnly.resolve(alias.relativize(f).toString());
                if (Files.isDirectory(f)) Files.createDirectories(to);
                else Files.copy(f, to);
            }
        }
        Files.writeString(driverOnly.resolve("README.md"), "a folder in the driver's home only");   // a new content key
        Path out = work.resolve("embeddings-driver-folder");
        Result r = submit(600, "predict", "--task", "sentence-embeddings", "--model", driverOnly.toString(),
                "--input", emails().toString(), "--input-format", "json", "--output", out.toString(),
                "--output-format", "json");
        assertEquals(0, r.code(), r.output());
        assertEquals(3, parts(out).size(), "one output row per input row");
    }

    @Test
    @Order(3)
    void finetuneWithAnAliasTrainsWithTwoWorkersOnTheCluster() throws Exception {
        Path out = work.resolve("finetuned");
        Result r = submit(900, "finetune", "--config", "conf/finetune-distributed.yaml",
                "--workers", "2", "--set", "data.limit=32", "--set", "data.eval_limit=16", "--set", "data.max_length=32",
                "--set", "training.num_train_epochs=1", "--set", "training.save_steps=100",
                "--set", "training.output_dir=" + out);
        assertEquals(0, r.code(), r.output());
        assertTrue(Files.isRegularFile(out.resolve("model.safetensors")), r.output());
        assertTrue(Files.isRegularFile(out.resolve("eval_results.json")), r.output());
        String state = Files.readString(out.resolve("trainer_state.json"));
        assertTrue(state.contains("\"global_step\""), state);
    }

    @Test
    @Order(4)
    void noExecutorFetchedAnythingEveryModelCameFromTheDriver() throws Exception {
        List<Path> logs;
        try (Stream<Path> files = Files.walk(clusterDir)) {
            logs = files.filter(p -> p.getFileName().toString().equals("stderr") && p.toString().contains("app-"))
                    .toList();
        }
        assertTrue(logs.size() >= 6, "executor logs of the 3 applications × 2 workers: " + logs);
        for (Path log : logs) {
            String text = Files.readString(log, StandardCharsets.UTF_8);
            for (String fetch : List.of("with mvn dependency:get", "Hub request:", "npm pack", "apt-get")) {
                assertFalse(text.contains(fetch), log + " shows a fetch (" + fetch + ")");
            }
        }
        assertFalse(Files.exists(executorHome.resolve(".m2")), "no Maven repository in the executors' home");
        assertFalse(Files.exists(executorSparkformersHome.resolve("models")), "no alias imported on an executor");
        List<String> shipped = new ArrayList<>();
        try (Stream<Path> infos = Files.list(executorSparkformersHome.resolve("cache"))) {
            for (Path info : infos.filter(p -> p.toString().endsWith(".json")).toList()) {
                if (Files.readString(info).contains("shipped by a Spark driver")) shipped.add(info.getFileName().toString());
            }
        }
        // the alias (predict and finetune share its content key) and the driver-only folder: once each on this host
        assertEquals(2, shipped.size(), "models the driver shipped into the executors' cache: " + shipped);
    }

    record Result(int code, String output) {}

    static Result run(int timeoutSeconds, Map<String, String> extraEnv, String... command)
            throws IOException, InterruptedException {
        Path log = Files.createTempFile(work == null ? Path.of(System.getProperty("java.io.tmpdir")) : work, "run", ".log");
        ProcessBuilder pb = new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Map<String, String> env = pb.environment();
        env.put("SPARKFORMERS_HOME", ROOT.resolve("jobs/target/sparkformers-home").toString());
        env.put("SPARKFORMERS_DRIVER_MEMORY", "3g");
        env.put("SPARKFORMERS_CLUSTER_DIR", clusterDir.toString());
        env.remove("SPARK_HOME");                       // the Maven-assembled Spark jars, not a local distribution
        env.putAll(extraEnv);
        Process p = pb.start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(-1, "timed out after " + timeoutSeconds + " s: " + Files.readString(log, StandardCharsets.UTF_8));
        }
        return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }
}
