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
 * replica checks), beside PyTorch DDP on the same host ({@link #compare}).
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

    /** Optimizer steps of the untimed fit that first runs on every executor (JIT, model caches, thread pools). */
    public static final int WARMUP_STEPS = 3;

    /**
     * The medians over the rounds of ours ({@code runs}) and of PyTorch DDP ({@code peerRuns}, empty without a
     * reference Python), one entry per worker count.
     */
    /**
     * @param roundRatios per round, ours' scaling (most workers vs the first count) over DDP's in the same round: the
     *     paired view of the comparison, which a drift of the host's speed between rounds does not move; empty without
     *     the peer
     */
    public record Comparison(int rounds, List<Result> runs, List<PeerResult> peerRuns, List<Double> roundRatios) {
        /** The median of {@link #roundRatios}; NaN without the peer. */
        public double medianRoundRatio() {
            return roundRatios.isEmpty()
                    ? Double.NaN
                    : Stats.median(roundRatios.stream()
                            .mapToDouble(Double::doubleValue)
                            .toArray());
        }
    }

    /**
     * {@code rounds} interleaved rounds, each: ours with every worker count in turn, then PyTorch DDP (gloo,
     * {@code peers/torch_ddp.py}, one process per worker, one thread each) on this host with the same rows, per-device
     * batch, max length and steps. Before the first round one untimed fit of {@link #WARMUP_STEPS} steps runs on
     * the most workers, so that no timed run pays an executor JVM's first compilations (the DDP script likewise runs
     * {@link #WARMUP_STEPS} untimed steps in each process). Each configuration's figures are medians over the rounds.
     */
    public static Comparison compare(
            SparkSession spark,
            List<Integer> workerCounts,
            int batch,
            int seqLength,
            long steps,
            int rounds,
            boolean withPeer)
            throws Exception {
        String model =
                BuiltinModels.resolve(BuiltinModels.get("all-MiniLM-L6-v2")).toString();
        int maxWorkers = workerCounts.stream().mapToInt(Integer::intValue).max().orElse(1);
        TextDataset train = SpamAssassin.split(false, (int) Math.min(4000, steps * batch * maxWorkers));
        var python = withPeer ? PythonPeer.referencePython() : java.util.Optional.<Path>empty();
        if (withPeer && python.isEmpty()) {
            System.err.println(PythonPeer.skipLine("training-distributed: PyTorch DDP gloo"));
        }
        List<Row> rows = new ArrayList<>();
        for (TextDataset.Row r : train.rows()) rows.add(RowFactory.create(r.text(), r.label()));
        Dataset<Row> df = spark.createDataFrame(
                        JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, maxWorkers), SCHEMA)
                .cache();
        df.count();
        Path rowsFile = python.isPresent() ? writeRows(train) : null;
        try {
            System.err.printf("training-distributed: untimed warm-up fit, %d workers%n", maxWorkers);
            fit(df, model, maxWorkers, batch, seqLength, WARMUP_STEPS);
            List<List<Result>> ours = new ArrayList<>();
            List<List<PeerResult>> peers = new ArrayList<>();
            for (int w : workerCounts) {
                ours.add(new ArrayList<>());
                peers.add(new ArrayList<>());
            }
            for (int round = 1; round <= rounds; round++) {
                for (int i = 0; i < workerCounts.size(); i++) {
                    Result r = fit(df, model, workerCounts.get(i), batch, seqLength, steps);
                    ours.get(i).add(r);
                    System.err.printf(
                            "training-distributed: round %d/%d, ours %d workers: %.2f samples/s%n",
                            round, rounds, r.workers(), r.loopSamplesPerSecond());
                }
                if (python.isEmpty()) continue;
                for (int i = 0; i < workerCounts.size(); i++) {
                    PeerResult p = peer(python.get(), model, rowsFile, workerCounts.get(i), batch, seqLength, steps);
                    peers.get(i).add(p);
                    System.err.printf(
                            "training-distributed: round %d/%d, DDP %d workers: %.2f samples/s%n",
                            round, rounds, p.workers(), p.loopSamplesPerSecond());
                }
            }
            List<Result> ourMedians = new ArrayList<>();
            List<PeerResult> peerMedians = new ArrayList<>();
            for (int i = 0; i < workerCounts.size(); i++) {
                List<Result> rs = ours.get(i);
                Result first = rs.get(0);
                ourMedians.add(new Result(
                        first.workers(),
                        first.globalBatch(),
                        first.seqLength(),
                        first.steps(),
                        median(rs, Result::fitSeconds),
                        median(rs, Result::loopSamplesPerSecond),
                        median(rs, Result::computeMsPerStep),
                        median(rs, Result::commMsPerStep),
                        median(rs, Result::commFraction)));
                List<PeerResult> ps = peers.get(i);
                if (!ps.isEmpty()) {
                    peerMedians.add(new PeerResult(
                            ps.get(0).workers(),
                            median(ps, PeerResult::loopSeconds),
                            median(ps, PeerResult::loopSamplesPerSecond)));
                }
            }
            List<Double> roundRatios = new ArrayList<>();
            int last = workerCounts.size() - 1;
            for (int r = 0; r < peers.get(0).size() && last > 0; r++) {
                double mine = ours.get(last).get(r).loopSamplesPerSecond()
                        / ours.get(0).get(r).loopSamplesPerSecond();
                double ddp = peers.get(last).get(r).loopSamplesPerSecond()
                        / peers.get(0).get(r).loopSamplesPerSecond();
                roundRatios.add(mine / ddp);
            }
            return new Comparison(rounds, ourMedians, peerMedians, roundRatios);
        } finally {
            df.unpersist();
            if (rowsFile != null) Files.deleteIfExists(rowsFile);
        }
    }

    private static <T> double median(List<T> xs, java.util.function.ToDoubleFunction<T> f) {
        return Stats.median(xs.stream().mapToDouble(f).toArray());
    }

    private static Path writeRows(TextDataset train) throws java.io.IOException {
        Path rows = Files.createTempFile("sparkformers-ddp-rows-", ".jsonl");
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
        return rows;
    }

    /** One DDP run of {@code workers} processes (one thread each) with {@link #WARMUP_STEPS} untimed steps first. */
    private static PeerResult peer(
            Path python, String model, Path rows, int workers, int batch, int seqLength, long steps) throws Exception {
        int port = LoopbackCluster.freePort();
        try (PythonPeer p = PythonPeer.start(
                python,
                "torch_ddp.py",
                List.of(
                        model,
                        rows.toString(),
                        Integer.toString(workers),
                        Integer.toString(batch),
                        Integer.toString(seqLength),
                        Long.toString(steps),
                        Integer.toString(port),
                        Integer.toString(WARMUP_STEPS)))) {
            var a = p.answer();
            return new PeerResult(
                    workers,
                    a.get("loop_seconds").asDouble(),
                    a.get("samples_per_second").asDouble());
        }
    }

    static final StructType SCHEMA =
            new StructType().add("text", DataTypes.StringType, true).add("label", DataTypes.StringType, true);

    /** One fit of ours with {@code w} workers and its figures. */
    private static Result fit(Dataset<Row> df, String model, int w, int batch, int seqLength, long steps)
            throws Exception {
        Path dir = Files.createTempDirectory("sparkformers-bench-dist-");
        try {
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
            return new Result(
                    w,
                    batch * w,
                    seqLength,
                    steps,
                    fit,
                    steps * batch * w / loop,
                    compute / steps * 1000,
                    comm / steps * 1000,
                    comm / loop);
        } finally {
            deleteTree(dir);
        }
    }

    private static void deleteTree(Path p) throws java.io.IOException {
        try (var walk = Files.walk(p)) {
            for (Path q : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }
}
