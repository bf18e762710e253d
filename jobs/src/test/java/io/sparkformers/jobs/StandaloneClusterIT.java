package io.sparkformers.jobs;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.Json;
import io.sparkformers.jobs.corpora.Gpt2Tokenizer;
import io.sparkformers.jobs.recipes.SpamLanguageModelRecipe;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The README's cluster transcript, reproduced on a cluster whose executors are what most YARN and Kubernetes
 * executors are — machines that cannot fetch models: {@code bin/spark-cluster start} (a master and 2 worker JVMs on
 * loopback) runs with an empty account home, an empty Sparkformers home and a {@code PATH} that holds no {@code mvn},
 * {@code npm} or {@code apt-get}; executors get {@code -Duser.home} of that empty home. Then
 * {@code bin/sparkformers --master spark://…} runs {@code predict} with a built-in alias and with a folder that only
 * the driver has, and {@code finetune --workers 2} with an alias, on the packaged jobs jar. Last, the executors' logs
 * and homes show that no executor fetched anything: every model reached them from the driver.
 *
 * <p>Then faults, each injected at a task the test chooses ({@link BlockScoringTask} blocks it and names its JVM): an
 * executor JVM killed with {@code kill -9} in the middle of {@code predict} (Spark retries its task elsewhere and the
 * output holds every input row exactly once), and a driver killed in the middle of the write (the output has no
 * {@code _SUCCESS}, and a rerun over it is refused in one line that names the fix).
 *
 * <p>Last, issue #17's batch-generation job at size: {@code predict --task text-generation} over a 10,000-row table of
 * real prompts on both executors, every row answered exactly once, rows/s printed (docs/performance.md).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StandaloneClusterIT {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    static final String MASTER = "spark://127.0.0.1:7187";
    /**
     * What the workers and executors may use: the shell tools of bin/spark-cluster and of Hadoop's local file system
     * (chmod, stat, df…), and a JVM; no package client.
     */
    static final List<String> TOOLS = List.of(
            "bash",
            "sh",
            "env",
            "seq",
            "grep",
            "sleep",
            "mkdir",
            "nohup",
            "cat",
            "rm",
            "sed",
            "basename",
            "dirname",
            "ls",
            "ps",
            "chmod",
            "chown",
            "chgrp",
            "cp",
            "mv",
            "ln",
            "stat",
            "df",
            "du",
            "id",
            "groups",
            "whoami",
            "uname",
            "readlink",
            "touch",
            "tr",
            "head",
            "tail",
            "wc",
            "sort",
            "find",
            "xargs",
            "hostname");

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
            var real = Stream.of("/usr/bin", "/bin")
                    .map(d -> Path.of(d, tool))
                    .filter(Files::isExecutable)
                    .findFirst();
            if (real.isPresent()) Files.createSymbolicLink(bin.resolve(tool), real.get());
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Files.createSymbolicLink(bin.resolve("java"), java);
        Result r = run(
                120,
                Map.of(
                        "PATH",
                        bin.toString(),
                        "HOME",
                        executorHome.toString(),
                        "JAVA_HOME",
                        System.getProperty("java.home"),
                        "SPARKFORMERS_HOME",
                        executorSparkformersHome.toString()),
                "bin/spark-cluster",
                "start",
                "--workers",
                "2",
                "--cores",
                "1",
                "--memory",
                "3g",
                "--port",
                "7187");
        assertEquals(0, r.code(), r.output());
        assertTrue(r.output().contains(MASTER), r.output());
        for (String client : List.of("mvn", "npm", "apt-get")) {
            assertFalse(Files.exists(bin.resolve(client)), client + " must not be on the executors' PATH");
        }
    }

    @AfterAll
    static void stop() throws Exception {
        run(60, Map.of(), "bin/spark-cluster", "stop");
        try (Stream<Path> walk = Files.walk(work)) { // the executors' home holds ~450 MB of libtorch
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            System.err.println("StandaloneClusterIT: could not remove " + work + ": " + e); // a worker still exiting
        }
    }

    /** bin/sparkformers against the cluster, executors with the empty home as user.home. */
    static Result submit(int timeoutSeconds, String... command) throws IOException, InterruptedException {
        List<String> full = onTheCluster();
        full.addAll(List.of(command));
        return run(timeoutSeconds, Map.of(), full.toArray(String[]::new));
    }

    /** {@code bin/sparkformers --master <the cluster>}, executors with the empty home as user.home; add to it. */
    static List<String> onTheCluster() {
        return new ArrayList<>(List.of(
                "bin/sparkformers",
                "--master",
                MASTER,
                "--conf",
                "spark.executor.extraJavaOptions=-Dai.djl.offline=true -Duser.home=" + executorHome));
    }

    /** {@code predict --task sentence-embeddings} of {@code model} from a JSON-lines file to a JSON-lines folder. */
    static String[] embed(String model, Path input, Path out) {
        return new String[] {
            "predict",
            "--task",
            "sentence-embeddings",
            "--model",
            model,
            "--input",
            input.toString(),
            "--input-format",
            "json",
            "--output",
            out.toString(),
            "--output-format",
            "json"
        };
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
            for (Path p : parts.filter(p -> p.getFileName().toString().startsWith("part-"))
                    .toList()) {
                lines.addAll(Files.readAllLines(p));
            }
        }
        return lines;
    }

    @Test
    @Order(1)
    void predictWithABuiltInAliasScoresAFileOnTheCluster() throws Exception {
        Path out = work.resolve("embeddings");
        Result r = submit(600, embed("all-MiniLM-L6-v2", emails(), out));
        assertEquals(0, r.code(), r.output());
        List<String> lines = parts(out);
        assertEquals(3, lines.size(), "one output row per input row");
        assertTrue(lines.stream().allMatch(l -> l.contains("\"embedding\"") && l.contains("\"text\"")), lines.get(0));
    }

    @Test
    @Order(2)
    void predictWithAFolderOnlyTheDriverHasScoresAFileOnTheCluster() throws Exception {
        Path alias = ROOT.resolve("jobs/target/sparkformers-home/models/all-MiniLM-L6-v2"); // imported by test 1
        assertTrue(Files.isRegularFile(alias.resolve("model.safetensors")), "the driver imported the alias: " + alias);
        Path driverOnly = work.resolve("driver-home/classifier-base");
        try (Stream<Path> files = Files.walk(alias)) {
            for (Path f : files.toList()) {
                Path to = driverOnly.resolve(alias.relativize(f).toString());
                if (Files.isDirectory(f)) Files.createDirectories(to);
                else Files.copy(f, to);
            }
        }
        Files.writeString(driverOnly.resolve("README.md"), "a folder in the driver's home only"); // a new content key
        Path out = work.resolve("embeddings-driver-folder");
        Result r = submit(600, embed(driverOnly.toString(), emails(), out));
        assertEquals(0, r.code(), r.output());
        assertEquals(3, parts(out).size(), "one output row per input row");
    }

    @Test
    @Order(3)
    void finetuneWithAnAliasTrainsWithTwoWorkersOnTheCluster() throws Exception {
        Path out = work.resolve("finetuned");
        Result r = submit(
                900,
                "finetune",
                "--config",
                "conf/finetune-distributed.yaml",
                "--workers",
                "2",
                "--set",
                "data.limit=32",
                "--set",
                "data.eval_limit=16",
                "--set",
                "data.max_length=32",
                "--set",
                "training.num_train_epochs=1",
                "--set",
                "training.save_steps=100",
                "--set",
                "training.output_dir=" + out);
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
            logs = files.filter(p -> p.getFileName().toString().equals("stderr")
                            && p.toString().contains("app-"))
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
                if (Files.readString(info).contains("shipped by a Spark driver"))
                    shipped.add(info.getFileName().toString());
            }
        }
        // the alias (predict and finetune share its content key) and the driver-only folder: once each on this host
        assertEquals(2, shipped.size(), "models the driver shipped into the executors' cache: " + shipped);
    }

    /** Rows {"id": 1…n, "text": …}, one JSON line each: about 60 bytes a row. */
    static Path numberedRows(String name, int n) throws IOException {
        Path input = work.resolve(name);
        Files.write(
                input,
                IntStream.rangeClosed(1, n)
                        .mapToObj(
                                i -> "{\"id\": " + i + ", \"text\": \"Row " + i + " of the fault test, scored once.\"}")
                        .toList());
        return input;
    }

    /** A jar of {@link BlockScoringTask} for spark.jars (the driver) and spark.executor.extraClassPath (executors). */
    static Path faultPluginJar() throws IOException {
        Path jar = work.resolve("fault-plugin.jar");
        if (Files.exists(jar)) return jar;
        Path classes = ROOT.resolve("jobs/target/test-classes");
        String prefix = BlockScoringTask.class.getName().replace('.', '/');
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
                Stream<Path> files = Files.walk(classes.resolve(prefix).getParent())) {
            for (Path f : files.filter(f -> classes.relativize(f).toString().startsWith(prefix))
                    .toList()) {
                out.putNextEntry(new JarEntry(classes.relativize(f).toString()));
                Files.copy(f, out);
                out.closeEntry();
            }
        }
        return jar;
    }

    /** --conf pairs that load the fault plugin with {@code faults} as its shared folder. */
    static List<String> faultConf(Path faults) throws IOException {
        Path jar = faultPluginJar();
        return List.of(
                "--conf",
                "spark.plugins=" + BlockScoringTask.class.getName(),
                "--conf",
                "spark.jars=" + jar,
                "--conf",
                "spark.executor.extraClassPath=" + jar,
                "--conf",
                BlockScoringTask.DIR + "=" + faults,
                "--conf",
                "spark.sql.files.maxPartitionBytes=600"); // ~10 rows a partition: 8 tasks
    }

    /** Waits for the blocked task's JVM to name itself, then SIGKILLs it; fails if the command ends first. */
    static long killVictim(Running predict, Path faults) throws Exception {
        Path pidFile = faults.resolve("victim.pid");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
        while (!Files.exists(pidFile)) {
            assertTrue(
                    predict.process().isAlive(),
                    "predict ended before a task blocked: " + Files.readString(predict.log(), StandardCharsets.UTF_8));
            assertTrue(System.nanoTime() < deadline, "no task blocked within 300 s");
            Thread.sleep(100); // polls a file the blocked task writes
        }
        long pid = Long.parseLong(Files.readString(pidFile).trim());
        ProcessHandle victim = ProcessHandle.of(pid).orElseThrow(() -> new AssertionError("no process " + pid));
        assertTrue(victim.destroyForcibly(), "SIGKILL to " + pid);
        victim.onExit().get(60, TimeUnit.SECONDS);
        return pid;
    }

    /** The ids of every row in the part files of a JSON-lines output, in file order. */
    static List<Long> outputIds(Path out) throws IOException {
        List<Long> ids = new ArrayList<>();
        for (String line : parts(out)) {
            JsonNode row = Json.MAPPER.readTree(line);
            assertTrue(row.path("embedding").path("values").size() > 0, "row " + row.path("id") + " has no embedding");
            ids.add(row.path("id").asLong());
        }
        return ids;
    }

    @Test
    @Order(5)
    void anExecutorKilledMidPredictLosesNoRowAndDuplicatesNone() throws Exception {
        int n = 80;
        Path input = numberedRows("numbered.jsonl", n);
        Path faults = Files.createDirectories(work.resolve("faults-executor"));
        Path out = work.resolve("embeddings-executor-killed");
        List<String> command = onTheCluster();
        command.addAll(faultConf(faults));
        command.addAll(List.of(embed("all-MiniLM-L6-v2", input, out)));
        Running predict = start(Map.of(), command.toArray(String[]::new));
        long victim = killVictim(predict, faults);

        Result r = predict.await(600);
        assertEquals(0, r.code(), r.output());
        assertTrue(Files.exists(out.resolve("_SUCCESS")), "the job committed");
        List<Long> ids = outputIds(out);
        assertEquals(n, ids.size(), "one output row per input row after the executor " + victim + " died");
        assertEquals(
                LongStream.rangeClosed(1, n).boxed().toList(),
                new TreeSet<>(ids).stream().toList(),
                "every id exactly once");
        try (Stream<Path> files = Files.list(faults)) {
            assertTrue(
                    files.anyMatch(f -> f.getFileName().toString().matches("task-\\d+-attempt-[1-9]\\d*")),
                    "the killed task ran again (another attempt of its partition)");
        }
    }

    @Test
    @Order(6)
    void aDriverKilledMidWriteLeavesAnIncompleteOutputThatARerunRefusesInOneLine() throws Exception {
        int n = 80;
        Path input = numberedRows("numbered-local.jsonl", n);
        Path faults = Files.createDirectories(work.resolve("faults-driver"));
        Path out = work.resolve("embeddings-driver-killed");
        List<String> command = new ArrayList<>(List.of("bin/sparkformers")); // local mode: the tasks run in the driver
        command.addAll(faultConf(faults));
        List<String> predict = List.of(embed("all-MiniLM-L6-v2", input, out));
        command.addAll(predict);
        Running killed = start(Map.of(), command.toArray(String[]::new));
        long driver = killVictim(killed, faults);
        assertEquals(driver, killed.process().pid(), "bin/sparkformers execs the driver JVM");
        assertEquals(137, killed.await(60).code(), "killed by SIGKILL");

        assertTrue(Files.isDirectory(out), "the killed job had begun writing");
        assertFalse(Files.exists(out.resolve("_SUCCESS")), "a killed write is visibly incomplete");
        String refusal = "error: output '" + out + "' is incomplete (no _SUCCESS: the job writing it stopped before "
                + "committing, e.g. killed); pass --mode overwrite to replace it";
        for (List<String> mode : List.of(List.<String>of(), List.of("--mode", "append"))) {
            List<String> rerun = new ArrayList<>(List.of("bin/sparkformers"));
            rerun.addAll(predict);
            rerun.addAll(mode);
            Result r = run(300, Map.of(), rerun.toArray(String[]::new));
            assertEquals(1, r.code(), r.output());
            List<String> lines = r.output().lines().filter(l -> !l.isBlank()).toList();
            assertEquals(refusal, lines.get(lines.size() - 1), "the last line names the problem and the fix " + mode);
        }
        List<String> overwrite = new ArrayList<>(List.of("bin/sparkformers"));
        overwrite.addAll(predict);
        overwrite.addAll(List.of("--mode", "overwrite"));
        Result r = run(600, Map.of(), overwrite.toArray(String[]::new));
        assertEquals(0, r.code(), r.output());
        assertTrue(Files.exists(out.resolve("_SUCCESS")));
        List<Long> ids = outputIds(out);
        assertEquals(
                LongStream.rangeClosed(1, n).boxed().toList(),
                ids.stream().sorted().toList(),
                "the overwrite holds every row exactly once");
    }

    /**
     * 10,000 prompts from real text: every line of the license texts in /usr/share/common-licenses (Debian's
     * {@code base-files}) with 3 words or more, cut to its first 3–24 words, cycled (stride 7919) until {@code n}
     * rows {"id": 0…n-1, "prompt": …}; the table of docs/performance.md's manual run ({@code make_generation_demo.py}).
     */
    static Path licensePrompts(int n) throws IOException {
        Path licenses = Path.of("/usr/share/common-licenses");
        assertTrue(
                Files.isDirectory(licenses),
                licenses + " is missing: install Debian's base-files (it holds the "
                        + "license texts the prompts are cut from)");
        List<String[]> lines = new ArrayList<>();
        try (Stream<Path> files = Files.list(licenses)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                for (String line : new String(Files.readAllBytes(f), StandardCharsets.UTF_8).split("\n")) {
                    String[] words = line.trim().split("\\s+");
                    if (words.length >= 3) lines.add(words);
                }
            }
        }
        Path input = work.resolve("prompts.jsonl");
        try (var w = Files.newBufferedWriter(input)) {
            for (int i = 0; i < n; i++) {
                String[] words = lines.get((int) ((i * 7919L) % lines.size()));
                String prompt = String.join(" ", List.of(words).subList(0, Math.min(words.length, 3 + i % 22)));
                w.write(Json.MAPPER
                        .createObjectNode()
                        .put("id", i)
                        .put("prompt", prompt)
                        .toString());
                w.write('\n');
            }
        }
        return input;
    }

    /** The executor stderr logs of the applications under the workers' work folders, by worker folder. */
    static Map<String, List<Path>> executorLogs() throws IOException {
        Map<String, List<Path>> byWorker = new java.util.TreeMap<>();
        try (Stream<Path> files = Files.walk(clusterDir)) {
            for (Path p : files.filter(p -> p.getFileName().toString().equals("stderr")
                            && p.toString().contains("app-"))
                    .toList()) {
                Path worker = p.getParent().getParent().getParent(); // work-i/app-…/<executor id>/stderr
                byWorker.computeIfAbsent(worker.getFileName().toString(), k -> new ArrayList<>())
                        .add(p);
            }
        }
        return byWorker;
    }

    /**
     * Issue #17's batch-generation job: {@code predict --task text-generation} (a TextGenerator) over a 10,000-row
     * JSON-lines table on the 2-worker cluster, greedy, 8 new tokens a row. The model is a seeded tiny GPT-2 built
     * from its config at HF's initialisation in Java (as {@code lm-train} starts one) with the real GPT-2 tokenizer,
     * in a folder only the driver has. Every input id comes back exactly once with non-empty generated text (the
     * prompt left out), and both executors ran tasks; the job's own line and its rows/s are printed.
     */
    @Test
    @Order(7)
    void aTextGeneratorJobAnswersEveryRowOfATenThousandRowTableOnBothExecutors() throws Exception {
        int n = 10_000;
        Path input = licensePrompts(n);
        System.setProperty(
                "sparkformers.home",
                ROOT.resolve("jobs/target/sparkformers-home").toString()); // as start()
        System.setProperty("ai.djl.offline", "true");
        Path model = work.resolve("driver-home/gpt2-tiny-real-tokenizer");
        long params = SpamLanguageModelRecipe.writeInitialCheckpoint(
                SpamLanguageModelRecipe.gpt2Config(128, 64, 2, 4), Gpt2Tokenizer.ensure(), 1234, model);
        // 2 layers × 64, 4 heads, 128 positions: 3,324,736 parameters, 3,216,448 of them GPT-2's 50,257 embeddings
        assertEquals(3_324_736, params, "parameters of " + model);
        Map<String, List<Path>> logsBefore = executorLogs();
        Path out = work.resolve("generated");
        Result r = submit(
                900,
                "--conf",
                "spark.sql.files.maxPartitionBytes=131072", // ~0.8 MB: 7 partitions, so both executors get tasks
                "predict",
                "--task",
                "text-generation",
                "--model",
                model.toString(),
                "--input",
                input.toString(),
                "--input-format",
                "json",
                "--text-col",
                "prompt",
                "--output",
                out.toString(),
                "--output-format",
                "json",
                "--max-new-tokens",
                "8",
                "--no-return-full-text");
        assertEquals(0, r.code(), r.output());
        var line = java.util.regex.Pattern.compile("-> .*: (\\d+) rows in ([0-9.]+) s; (.*)")
                .matcher(r.output());
        assertTrue(line.find(), "the job's summary line: " + r.output());
        assertEquals(n, Integer.parseInt(line.group(1)), line.group());
        System.out.printf(
                "StandaloneClusterIT text-generation: %s%n  %.1f rows/s (%d rows / %s s of the job)%n",
                line.group(), n / Double.parseDouble(line.group(2)), n, line.group(2));

        long[] seen = new long[n];
        for (String json : parts(out)) {
            JsonNode row = Json.MAPPER.readTree(json);
            int id = row.path("id").asInt(-1);
            assertTrue(id >= 0 && id < n, "an id that is not an input's: " + json);
            seen[id]++;
            assertFalse(row.path("generated_text").asText().isEmpty(), "row " + id + " has no generated text: " + json);
        }
        for (int id = 0; id < n; id++) assertEquals(1, seen[id], "input id " + id + " in the output");

        Map<String, List<Path>> logs = executorLogs();
        Map<String, Long> tasks = new java.util.TreeMap<>();
        for (var worker : logs.entrySet()) {
            long launched = 0;
            for (Path log : worker.getValue()) {
                if (logsBefore.getOrDefault(worker.getKey(), List.of()).contains(log)) continue; // earlier apps
                launched += Files.readAllLines(log, StandardCharsets.UTF_8).stream()
                        .filter(l -> l.contains("Running task "))
                        .count();
            }
            tasks.put(worker.getKey(), launched);
        }
        System.out.println("  tasks launched per worker: " + tasks);
        assertEquals(2, tasks.size(), "executor logs of both workers: " + tasks);
        assertTrue(tasks.values().stream().allMatch(t -> t > 0), "both executors ran tasks: " + tasks);
    }

    record Result(int code, String output) {}

    static Result run(int timeoutSeconds, Map<String, String> extraEnv, String... command)
            throws IOException, InterruptedException {
        return start(extraEnv, command).await(timeoutSeconds);
    }

    /** A command started in the background, its output going to a log. */
    record Running(Process process, Path log) {
        Result await(int timeoutSeconds) throws IOException, InterruptedException {
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return new Result(
                        -1,
                        "timed out after " + timeoutSeconds + " s: " + Files.readString(log, StandardCharsets.UTF_8));
            }
            return new Result(process.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        }
    }

    static Running start(Map<String, String> extraEnv, String... command) throws IOException {
        Path log = Files.createTempFile(
                work == null ? Path.of(System.getProperty("java.io.tmpdir")) : work, "run", ".log");
        ProcessBuilder pb = new ProcessBuilder(command)
                .directory(ROOT.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Map<String, String> env = pb.environment();
        env.put(
                "SPARKFORMERS_HOME",
                ROOT.resolve("jobs/target/sparkformers-home").toString());
        env.put("SPARKFORMERS_DRIVER_MEMORY", "3g");
        env.put("SPARKFORMERS_CLUSTER_DIR", clusterDir.toString());
        env.remove("SPARK_HOME"); // the Maven-assembled Spark jars, not a local distribution
        env.putAll(extraEnv);
        return new Running(pb.start(), log);
    }
}
