package io.sparkformers.jobs.bench;

import io.sparkformers.convert.BuiltinModels;
import io.sparkformers.jobs.corpora.SpamAssassin;
import io.sparkformers.spark.TextClassifier;
import io.sparkformers.train.TextDataset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Data-parallel fine-tuning throughput on the session's cluster: all-MiniLM-L6-v2 on SpamAssassin emails, the same
 * per-device batch with 1 and with N workers (one barrier task each), {@code steps} optimizer steps, no checkpoints.
 * Reports samples/s (whole fit, Spark job set-up included, and the training loop alone) and the per-step split of
 * each rank's loop into compute (forward, backward, optimizer) and communication (gradient all-reduce, loss sums,
 * replica checks).
 */
public final class DistributedTrainingBenchmark {
    private DistributedTrainingBenchmark() {}

    /**
     * One configuration's figures (rank 0's loop; {@code commMsPerStep} is the slowest rank's).
     *
     * @param fitSeconds      wall time of {@code fit}, job start-up and model loads included
     * @param loopSamplesPerSecond global samples per second of the training loop (HF train_samples_per_second)
     */
    public record Result(
            int workers,
            int globalBatch,
            int seqLength,
            long steps,
            double fitSeconds,
            double loopSamplesPerSecond,
            double computeMsPerStep,
            double commMsPerStep,
            double commFraction) {}

    /** The PyTorch DDP peer's figures for one world size (HF train_samples_per_second of its loop). */
    public record PeerResult(int workers, double loopSeconds, double loopSamplesPerSecond) {}

    /**
     * PyTorch DDP (gloo) on this host with the same rows, per-device batch, max length and steps
     * ({@code peers/torch_ddp.py}, one process per worker, one thread each), for each worker count in turn; empty,
     * with the one skip line, without a reference Python.
     */
    public static List<PeerResult> runPeer(List<Integer> workerCounts, int batch, int seqLength, long steps)
            throws Exception {
        var python = PythonPeer.referencePython();
        if (python.isEmpty()) {
            System.err.println(PythonPeer.skipLine("training-distributed: PyTorch DDP gloo"));
            return List.of();
        }
        String model =
                BuiltinModels.resolve(BuiltinModels.get("all-MiniLM-L6-v2")).toString();
        int maxWorkers = workerCounts.stream().mapToInt(Integer::intValue).max().orElse(1);
        TextDataset train = SpamAssassin.split(false, (int) Math.min(4000, steps * batch * maxWorkers));
        Path rows = Files.createTempFile("sparkformers-ddp-rows-", ".jsonl");
        try {
            StringBuilder sb = new StringBuilder();
            for (TextDataset.Row r : train.rows()) {
                sb.append(io.sparkformers.hub.Json.MAPPER
                                .createObjectNode()
                                .put("text", r.text())
                                .put("label", r.label())
                                .toString())
                        .append('\n');
            }
            Files.writeString(rows, sb);
            List<PeerResult> out = new ArrayList<>();
            for (int w : workerCounts) {
                int port;
                try (var probe = java.nio.channels.ServerSocketChannel.open()) {
                    probe.bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0));
                    port = ((java.net.InetSocketAddress) probe.getLocalAddress()).getPort();
                }
                try (PythonPeer p = PythonPeer.start(
                        python.get(),
                        "torch_ddp.py",
                        List.of(
                                model,
                                rows.toString(),
                                Integer.toString(w),
                                Integer.toString(batch),
                                Integer.toString(seqLength),
                                Long.toString(steps),
                                Integer.toString(port)))) {
                    var a = p.answer();
                    out.add(new PeerResult(
                            w,
                            a.get("loop_seconds").asDouble(),
                            a.get("samples_per_second").asDouble()));
                }
            }
            return out;
        } finally {
            Files.deleteIfExists(rows);
        }
    }

    static final StructType SCHEMA =
            new StructType().add("text", DataTypes.StringType, true).add("label", DataTypes.StringType, true);

    public static List<Result> run(SparkSession spark, List<Integer> workerCounts, int batch, int seqLength, long steps)
            throws Exception {
        String model =
                BuiltinModels.resolve(BuiltinModels.get("all-MiniLM-L6-v2")).toString();
        int maxWorkers = workerCounts.stream().mapToInt(Integer::intValue).max().orElse(1);
        TextDataset train = SpamAssassin.split(false, (int) Math.min(4000, steps * batch * maxWorkers));
        List<Row> rows = new ArrayList<>();
        for (TextDataset.Row r : train.rows()) rows.add(RowFactory.create(r.text(), r.label()));
        Dataset<Row> df = spark.createDataFrame(
                        JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, maxWorkers), SCHEMA)
                .cache();
        df.count();
        List<Result> out = new ArrayList<>();
        for (int w : workerCounts) {
            Path dir = Files.createTempDirectory("sparkformers-bench-dist-");
            TextClassifier est = new TextClassifier()
                    .setModel(model)
                    .setNumWorkers(w)
                    .setOutputDir(dir.toString())
                    .setOverwriteOutputDir(true)
                    .setPerDeviceTrainBatchSize(batch)
                    .setMaxSteps(steps)
                    .setMaxLength(seqLength)
                    .setLearningRate(5e-5)
                    .setSaveStrategy("no")
                    .setLoggingSteps(steps)
                    .setCheckConsistencyEverySteps(0)
                    .setMaxAttempts(1);
            long t0 = System.nanoTime();
            TextClassifier.FitSummary s = est.fitWithSummary(df).summary();
            double fit = (System.nanoTime() - t0) / 1e9;
            Map<String, Object> m = s.trainMetrics();
            double loop = ((Number) m.get("train_runtime")).doubleValue();
            double compute = w == 1 ? loop : ((Number) m.get("train_compute_seconds")).doubleValue();
            double comm = 0;
            for (Map<String, Object> r : s.workers()) {
                Object c = r.get("train_communication_seconds");
                if (c != null) comm = Math.max(comm, ((Number) c).doubleValue());
            }
            out.add(new Result(
                    w,
                    batch * w,
                    seqLength,
                    steps,
                    fit,
                    steps * batch * w / loop,
                    compute / steps * 1000,
                    comm / steps * 1000,
                    comm / loop));
            deleteTree(dir);
        }
        df.unpersist();
        return out;
    }

    private static void deleteTree(Path p) throws java.io.IOException {
        try (var walk = Files.walk(p)) {
            for (Path q : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }
}
