package io.sparkformers.jobs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import io.sparkformers.runtime.CpuInfo;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code bench suite}: every benchmark, each in its own JVM ({@code bin/sparkformers bench <name> --json}), because
 * PyTorch's thread pools are sized once per process (the encoder grid uses all cores in one task, the Spark case one
 * thread per task slot) and peak RSS is a per-process figure. Collects their JSON into one report and renders the
 * README's performance tables from it.
 */
public final class BenchSuite {

    /**
     * One child benchmark.
     *
     * @param key      where its JSON goes in the report
     * @param launcher options for bin/sparkformers before the command (such as --master)
     * @param args     the benchmark's name and options
     * @param cluster  run it against a Standalone cluster the suite starts on loopback for it: {@link #CLUSTER_WORKERS}
     *                 worker JVMs of one core each (the launcher gets {@code --master spark://…})
     */
    public record Step(String key, List<String> launcher, List<String> args, boolean cluster) {
        Step(String key, List<String> args) {
            this(key, List.of(), args, false);
        }
    }

    /** Workers of the suite's loopback cluster: one executor JVM per data-parallel replica. */
    public static final int CLUSTER_WORKERS = 2;

    private BenchSuite() {}

    /** The steps of a full or a --quick run; {@code withDistributed} adds training-distributed. */
    public static List<Step> steps(boolean quick, boolean withDistributed) {
        List<Step> s = new ArrayList<>();
        s.add(new Step("inference", quick ? List.of("inference", "--quick") : List.of("inference")));
        s.add(new Step("load", List.of("load")));
        s.add(new Step("training", List.of("training", "--steps", quick ? "60" : "600")));
        if (withDistributed) {
            // 1 vs 2 executor JVMs of a Standalone cluster, one core each: replicas talk over real sockets
            s.add(new Step(
                    "training_distributed",
                    List.of(),
                    List.of(
                            "training-distributed",
                            "--workers",
                            Integer.toString(CLUSTER_WORKERS),
                            // one fit's rate moves by up to ±10% on 2 shared cores: medians of interleaved rounds
                            "--dist-steps",
                            quick ? "20" : "30",
                            "--dist-rounds",
                            quick ? "3" : "5"),
                    true));
        }
        s.add(new Step("allreduce", List.of("allreduce")));
        // one task slot against the one-thread bare loop: the ratio is Spark's overhead, not its parallelism
        s.add(new Step(
                "inference_spark",
                List.of("--master", "local[1]"),
                quick
                        ? List.of("inference-spark", "--rows", "600", "--rss-rows", "256", "--rounds", "3")
                        : List.of("inference-spark", "--rows", "2000", "--rss-rows", "512", "--rounds", "5"),
                false));
        return s;
    }

    /** Runs the steps in turn and returns {machine, <key>: child JSON, …}; a failed step records its error. */
    public static ObjectNode run(List<Step> steps) throws IOException, InterruptedException {
        Path launcher = launcher();
        ObjectNode report = Json.MAPPER.createObjectNode();
        report.set("machine", machine());
        for (Step step : steps) {
            long t0 = System.nanoTime();
            ObjectNode out = step.cluster() ? onLoopbackCluster(launcher, step) : runChild(launcher, step, List.of());
            out.put("wall_seconds", (System.nanoTime() - t0) / 1e9);
            report.set(step.key(), out);
        }
        ((ObjectNode) report.get("machine")).put("load_average_end", loadAverage());
        return report;
    }

    /** {@link #runChild} against a Standalone cluster started for it (and stopped after it), or why none started. */
    private static ObjectNode onLoopbackCluster(Path launcher, Step step) throws IOException, InterruptedException {
        LoopbackCluster cluster;
        try {
            cluster = LoopbackCluster.start(launcher.getParent().getParent(), CLUSTER_WORKERS, 1, "3g");
        } catch (IOException e) {
            return Json.MAPPER.createObjectNode().put("error", e.getMessage());
        }
        try (cluster) {
            return runChild(launcher, step, List.of("--master", cluster.master()));
        }
    }

    /** Runs one benchmark through bin/sparkformers and returns its JSON report (with "error" when it failed). */
    private static ObjectNode runChild(Path launcher, Step step, List<String> master)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(launcher.toString()));
        cmd.addAll(master);
        cmd.addAll(step.launcher());
        cmd.add("bench");
        cmd.addAll(step.args());
        cmd.add("--json");
        System.err.println("bench suite: " + String.join(" ", cmd.subList(1, cmd.size())));
        Process p = new ProcessBuilder(cmd)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        String stdout;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            stdout = "\n" + String.join("\n", r.lines().toList());
        }
        int rc = p.waitFor();
        int start = stdout.indexOf("\n{"); // the report, one line or pretty-printed, ends stdout
        String json = start < 0 ? null : stdout.substring(start + 1);
        ObjectNode out = json == null ? Json.MAPPER.createObjectNode() : (ObjectNode) Json.MAPPER.readTree(json);
        if (rc != 0 || json == null) out.put("error", "exit code " + rc + (json == null ? ", no JSON" : ""));
        return out;
    }

    private static Path launcher() {
        String root = System.getenv("SPARKFORMERS_ROOT");
        if (root == null)
            throw new IllegalStateException("bench suite runs its benchmarks through bin/sparkformers: "
                    + "start it with bin/sparkformers (SPARKFORMERS_ROOT is not set)");
        return Path.of(root, "bin", "sparkformers");
    }

    /** Cores, CPU model, memory, engine versions and the load average when the run starts. */
    static ObjectNode machine() throws IOException {
        ObjectNode m = Json.MAPPER.createObjectNode();
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("cpu", procField("/proc/cpuinfo", "model name"));
        CpuInfo cpu = CpuInfo.current();
        m.put("cpu_vendor", cpu.vendor());
        m.put("isa", cpu.isa());
        String mem = procField("/proc/meminfo", "MemTotal");
        m.put("memory_gib", mem.isEmpty() ? -1 : Math.round(Long.parseLong(mem.replaceAll("[^0-9]", "")) / 1048576.0));
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        m.put("java", System.getProperty("java.version"));
        m.put("load_average_start", loadAverage());
        return m;
    }

    private static String procField(String file, String key) throws IOException {
        Path p = Path.of(file);
        if (!Files.isReadable(p)) return "";
        for (String line : Files.readAllLines(p)) {
            if (line.startsWith(key))
                return line.substring(line.indexOf(':') + 1).trim();
        }
        return "";
    }

    private static String loadAverage() throws IOException {
        Path p = Path.of("/proc/loadavg");
        if (!Files.isReadable(p)) return "";
        String[] f = Files.readString(p).trim().split("\\s+");
        return f[0] + " " + f[1] + " " + f[2];
    }

    /**
     * The GEMM path the benchmark children ran (each reports its own) and, where they report it, the encoder layers'
     * one; "unknown" when none did.
     */
    static String gemmPath(JsonNode report) {
        for (JsonNode child : report) {
            if (child.path("gemm").isTextual()) {
                String encoder = child.path("encoder_gemm").asText("");
                return child.path("gemm").asText() + (encoder.isEmpty() ? "" : "; encoder layers: " + encoder);
            }
        }
        return "unknown";
    }

    /**
     * A row's {@code field} in {@code format}, or "—" where it was not measured: absent, or NaN (a model without an
     * ONNX export, a CPU without native BF16), which the JSON report holds as the string "NaN".
     */
    static String measured(JsonNode row, String field, String format) {
        JsonNode v = row.path(field);
        return v.isNumber() && !Double.isNaN(v.asDouble()) ? String.format(Locale.ROOT, format, v.asDouble()) : "—";
    }

    /** The report as Markdown: the machine line, then one table per benchmark family (the README's tables). */
    public static String markdown(JsonNode r) {
        StringBuilder sb = new StringBuilder();
        JsonNode m = r.path("machine");
        sb.append(String.format(
                Locale.ROOT,
                "Machine: %d cores, %s %s [%s], %d GiB, %s, Java %s; GEMM: %s; load average %s at the start, "
                        + "%s at the end (a shared machine: compare ratios, not absolute times).%n%n",
                m.path("cores").asInt(),
                m.path("cpu_vendor").asText(),
                m.path("cpu").asText(),
                m.path("isa").asText(),
                m.path("memory_gib").asInt(),
                m.path("os").asText(),
                m.path("java").asText(),
                gemmPath(r),
                m.path("load_average_start").asText(),
                m.path("load_average_end").asText()));
        JsonNode inf = r.path("inference");
        if (inf.has("rows")) {
            sb.append(String.format(
                    Locale.ROOT,
                    "Encoder inference, %d threads for both engines, median of %d "
                            + "interleaved rounds; GEMM peak = a %d² FP32 matmul on libtorch in the same rounds.%n%n",
                    inf.path("threads").asInt(),
                    inf.path("iterations").asInt(),
                    InferenceGrid.GEMM_SIZE));
            sb.append("| model | batch × seq | ours ms | ours tokens/s | ONNX Runtime ms | ours / ORT speed "
                    + "| ours BF16 ms | BF16 / ORT speed | ours GFLOP/s | GEMM peak GFLOP/s | of peak |\n"
                    + "|---|---|---|---|---|---|---|---|---|---|---|\n");
            for (JsonNode x : inf.path("rows")) {
                sb.append(String.format(
                        Locale.ROOT,
                        "| %s | %d × %d | %.1f | %,.0f | %s | %s | %s | %s | %.0f | %.0f | %.0f%% |%n",
                        x.path("model").asText(),
                        x.path("batch").asInt(),
                        x.path("seqLength").asInt(),
                        x.path("oursMs").asDouble(),
                        x.path("oursTokensPerSecond").asDouble(),
                        measured(x, "onnxMs", "%.1f"),
                        measured(x, "ratioToOnnxRuntime", "**%.2f×**"),
                        measured(x, "bf16Ms", "%.1f"),
                        measured(x, "bf16RatioToOnnxRuntime", "**%.2f×**"),
                        x.path("oursGflops").asDouble(),
                        x.path("gemmGflops").asDouble(),
                        100 * x.path("fractionOfPeak").asDouble()));
            }
            sb.append('\n');
        }
        sb.append("| benchmark | ours | peer / reference | ratio |\n|---|---|---|---|\n");
        JsonNode load = r.path("load").path("load");
        if (load.has("loadMillis")) {
            sb.append(String.format(
                    Locale.ROOT,
                    "| load bert-base-uncased (%,d params) from its checkpoint folder | %.1f s " + "| — | — |%n",
                    load.path("parameters").asLong(),
                    load.path("loadMillis").asDouble() / 1000));
        }
        JsonNode sp = r.path("inference_spark");
        if (sp.has("spark_seconds")) {
            sb.append(String.format(
                    Locale.ROOT,
                    "| Spark `SentenceEmbedder` vs bare loop, %d mixed-length rows (%s) | %.1f "
                            + "rows/s | bare loop %.1f rows/s | **%.2f×** |%n",
                    sp.path("rows").asInt(),
                    sp.path("master").asText(),
                    sp.path("rows").asInt() / sp.path("spark_seconds").asDouble(),
                    sp.path("rows").asInt() / sp.path("bare_seconds").asDouble(),
                    1 / sp.path("spark_over_bare").asDouble()));
            sb.append(String.format(
                    Locale.ROOT,
                    "| bare loop vs ONNX Runtime on the same batches (%d thread) | %.1f rows/s "
                            + "| %.1f rows/s | **%.2f×** |%n",
                    sp.path("onnx_threads").asInt(),
                    sp.path("rows").asInt() / sp.path("bare_seconds").asDouble(),
                    sp.path("rows").asInt() / sp.path("onnx_seconds").asDouble(),
                    1 / sp.path("bare_over_onnx").asDouble()));
            sb.append(String.format(
                    Locale.ROOT,
                    "| padding efficiency (real / processed tokens), length-sorted | %.3f "
                            + "| in row order %.3f | — |%n",
                    sp.path("padding_efficiency_sorted").asDouble(),
                    sp.path("padding_efficiency_unsorted").asDouble()));
            JsonNode rss = sp.path("executor_peak_rss");
            if (rss.size() == 2) {
                sb.append(String.format(
                        Locale.ROOT,
                        "| executor peak RSS (VmHWM), 2 task slots vs 1 | %,.0f MiB | %,.0f MiB " + "| **%.2f×** |%n",
                        rss.get(1).path("vm_hwm_kb").asDouble() / 1024,
                        rss.get(0).path("vm_hwm_kb").asDouble() / 1024,
                        rss.get(1).path("vm_hwm_kb").asDouble()
                                / rss.get(0).path("vm_hwm_kb").asDouble()));
            }
        }
        JsonNode tr = r.path("training").path("training");
        if (tr.has("samplesPerSecond")) {
            sb.append(String.format(
                    Locale.ROOT,
                    "| training %s %d × %d, single process, %d steps | %.1f samples/s | — " + "| — |%n",
                    tr.path("model").asText(),
                    tr.path("batch").asInt(),
                    tr.path("seqLength").asInt(),
                    tr.path("steps").asInt(),
                    tr.path("samplesPerSecond").asDouble()));
            sb.append(String.format(
                    Locale.ROOT,
                    "| native memory over those steps (VmRSS after warm-up → end) | %,.0f → "
                            + "%,.0f MiB | — | %+.1f MiB |%n",
                    tr.path("rssAfterWarmupKb").asDouble() / 1024,
                    tr.path("rssEndKb").asDouble() / 1024,
                    tr.path("rssGrowthMib").asDouble()));
            if (tr.has("ratioToPeer")) {
                JsonNode p = tr.path("peer");
                sb.append(String.format(
                        Locale.ROOT,
                        "| training vs PyTorch eager + transformers (same weights, batch, threads; forward / backward /"
                                + " optimizer ms: ours %.0f / %.0f / %.0f, peer %.0f / %.0f / %.0f) | %.1f samples/s"
                                + " | %.1f samples/s | **%.2f×** (goal ≥ 1.0: %s) |%n",
                        tr.path("forwardMs").asDouble(),
                        tr.path("backwardMs").asDouble(),
                        tr.path("optimizerMs").asDouble(),
                        p.path("forwardMs").asDouble(),
                        p.path("backwardMs").asDouble(),
                        p.path("optimizerMs").asDouble(),
                        tr.path("samplesPerSecond").asDouble(),
                        tr.path("peerSamplesPerSecond").asDouble(),
                        tr.path("ratioToPeer").asDouble(),
                        tr.path("ratioToPeer").asDouble() >= 1.0 ? "held" : "not held"));
            }
        }
        JsonNode td = r.path("training_distributed");
        if (td.path("runs").size() == 2) {
            JsonNode one = td.path("runs").get(0);
            JsonNode two = td.path("runs").get(1);
            sb.append(String.format(
                    Locale.ROOT,
                    "| data-parallel training, %d vs 1 workers (%s), communication %.0f%% of a "
                            + "step | %.1f samples/s | %.1f samples/s | **%.2f×** |%n",
                    two.path("workers").asInt(),
                    td.path("master").asText(),
                    100 * two.path("commFraction").asDouble(),
                    two.path("loopSamplesPerSecond").asDouble(),
                    one.path("loopSamplesPerSecond").asDouble(),
                    two.path("loopSamplesPerSecond").asDouble()
                            / one.path("loopSamplesPerSecond").asDouble()));
            if (td.has("peer_ddp_speedup")) {
                double ours = two.path("loopSamplesPerSecond").asDouble()
                        / one.path("loopSamplesPerSecond").asDouble();
                double ddp = td.path("peer_ddp_speedup").asDouble();
                sb.append(String.format(
                        Locale.ROOT,
                        "| the same %d vs 1 scaling vs PyTorch DDP (gloo, same host, rows, batch; medians of %d "
                                + "interleaved rounds; paired per-round median %.2f×) | %.2f× | %.2f× | **%.2f×** "
                                + "(goal ≥ 1.0: %s) |%n",
                        two.path("workers").asInt(),
                        td.path("rounds").asInt(1),
                        td.path("round_scaling_median").asDouble(Double.NaN),
                        ours,
                        ddp,
                        ours / ddp,
                        ours >= ddp ? "held" : "not held"));
            }
        }
        JsonNode ar = r.path("allreduce");
        if (ar.has("busBandwidth")) {
            sb.append(String.format(
                    Locale.ROOT,
                    "| ring all-reduce, %d ranks, %,d MB (bus bandwidth) | %,.0f MB/s | loopback "
                            + "TCP %,.0f MB/s | **%.2f×** |%n",
                    ar.path("ranks").asInt(),
                    ar.path("bytes").asLong() / 1_000_000,
                    ar.path("busBandwidth").asDouble() / 1e6,
                    ar.path("loopbackBandwidth").asDouble() / 1e6,
                    ar.path("busOverLoopback").asDouble()));
            if (ar.has("rawRingBandwidth")) {
                sb.append(String.format(
                        Locale.ROOT,
                        "| the same all-reduce vs raw TCP in the ring's pattern (both ranks "
                                + "sending and receiving at once, no framing or additions) | %,.0f MB/s | raw ring %,.0f "
                                + "MB/s | **%.2f×** |%n",
                        ar.path("busBandwidth").asDouble() / 1e6,
                        ar.path("rawRingBandwidth").asDouble() / 1e6,
                        ar.path("busOverRawRing").asDouble()));
            }
            for (String k : List.of("ranks_2", "ranks_4")) {
                JsonNode g = ar.path(k);
                if (!g.has("busOverGloo") || !g.path("busOverGloo").isNumber()) continue;
                sb.append(String.format(
                        Locale.ROOT,
                        "| all-reduce, %d ranks, one 25 MiB bucket, vs torch.distributed gloo (%d processes) | %,.0f "
                                + "MB/s | %,.0f MB/s | **%.2f×** (goal ≥ 1.0: %s) |%n",
                        g.path("ranks").asInt(),
                        g.path("ranks").asInt(),
                        g.path("busBandwidth").asDouble() / 1e6,
                        g.path("glooBusBandwidth").asDouble() / 1e6,
                        g.path("busOverGloo").asDouble(),
                        g.path("busOverGloo").asDouble() >= 1.0 ? "held" : "not held"));
            }
        }
        for (var it = r.fields(); it.hasNext(); ) {
            var e = it.next();
            if (e.getValue().has("error")) {
                sb.append(String.format(
                        "%n%s failed: %s%n",
                        e.getKey(), e.getValue().path("error").asText()));
            }
        }
        return sb.toString();
    }
}
