package io.sparkformers.jobs.bench;

import io.sparkformers.hub.SparkformersHome;
import io.sparkformers.spark.ExecutorModels;
import io.sparkformers.spark.SentenceEmbedder;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Peak resident memory of one executor JVM scoring sentence embeddings with 1 and with 2 task slots: a
 * {@code local-cluster[1,slots,2048]} application per case (one executor JVM, {@code spark.executor.cores} = slots,
 * {@code spark.task.cpus} = 1), the rows scored, then each task of a probe job reads its JVM's {@code VmHWM} (peak
 * RSS) from {@code /proc/self/status} and returns it through the job. Linux only. The executors get this JVM's class
 * path; as in the local-cluster tests, Spark's testing switch lets an empty folder stand in for a Spark home.
 */
public final class ExecutorMemoryBenchmark {
    private ExecutorMemoryBenchmark() {}

    /**
     * One case.
     *
     * @param slots       task slots of the executor
     * @param peakRssKb   VmHWM of the executor JVM after scoring, in kB
     * @param modelLoads  model loads in that JVM (1 expected: the slots share one model)
     * @param seconds     wall time of the scoring job
     */
    public record Case(int slots, long peakRssKb, int modelLoads, double seconds) {}

    /** Runs the cases in turn; no other SparkContext may be active in this JVM. */
    public static List<Case> run(
            String model, int rows, int maxLength, int maxTokensPerBatch, int batchSize, int... slots)
            throws IOException {
        Path home = Files.createTempDirectory("spark-home");
        Files.createDirectories(home.resolve("jars"));
        System.setProperty("spark.testing", "true"); // the in-process Worker then reads spark.test.home
        System.setProperty("spark.test.home", home.toString());
        List<Case> out = new ArrayList<>();
        try {
            for (int s : slots) out.add(runCase(model, rows, maxLength, maxTokensPerBatch, batchSize, s));
        } finally {
            System.clearProperty("spark.testing");
            System.clearProperty("spark.test.home");
        }
        return out;
    }

    private static Case runCase(String model, int n, int maxLength, int maxTokensPerBatch, int batchSize, int slots) {
        String jvmOpts = ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--add-opens")
                        || a.startsWith("-Dai.djl")
                        || a.startsWith("-Djdk.reflect")
                        || a.startsWith("-Dio.netty"))
                .collect(Collectors.joining(" "));
        String classPath = System.getProperty("java.class.path")
                + java.io.File.pathSeparator
                + ExecutorMemoryBenchmark.class
                        .getProtectionDomain()
                        .getCodeSource()
                        .getLocation()
                        .getPath();
        SparkSession spark = SparkSession.builder()
                .master("local-cluster[1," + slots + ",2048]")
                .appName("sparkformers bench executor-rss " + slots + " slots")
                .config("spark.ui.enabled", "false")
                .config("spark.executor.cores", Integer.toString(slots))
                .config("spark.task.cpus", "1")
                .config("spark.executorEnv.SPARK_SCALA_VERSION", "2.13")
                .config("spark.executorEnv.TORCH_CPP_LOG_LEVEL", "ERROR")
                .config(
                        "spark.executorEnv.SPARKFORMERS_HOME",
                        SparkformersHome.get().toAbsolutePath().toString())
                .config("spark.executor.extraClassPath", classPath)
                .config("spark.executor.extraJavaOptions", jvmOpts)
                .getOrCreate();
        try {
            List<String> texts = InferenceBenchmark.texts(n, 17);
            List<Row> rows = new ArrayList<>(n);
            for (int i = 0; i < n; i++) rows.add(RowFactory.create(i, texts.get(i)));
            StructType schema =
                    new StructType().add("id", DataTypes.IntegerType).add("text", DataTypes.StringType);
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            Dataset<Row> df = spark.createDataFrame(jsc.parallelize(rows, 4 * slots), schema);
            long t0 = System.nanoTime();
            new SentenceEmbedder()
                    .setModel(model)
                    .setMaxLength(maxLength)
                    .setMaxTokensPerBatch(maxTokensPerBatch)
                    .setBatchSize(batchSize)
                    .transform(df)
                    .write()
                    .format("noop")
                    .mode("overwrite")
                    .save();
            double seconds = (System.nanoTime() - t0) / 1e9;
            List<Integer> seeds = new ArrayList<>();
            for (int i = 0; i < 2 * slots; i++) seeds.add(i);
            List<long[]> probes = jsc.parallelize(seeds, seeds.size())
                    .mapPartitions(it -> List.of(new long[] {vmHwmKb(), ExecutorModels.loads()})
                            .iterator())
                    .collect();
            long peak = probes.stream().mapToLong(p -> p[0]).max().orElse(-1);
            int loads = (int) probes.stream().mapToLong(p -> p[1]).max().orElse(-1);
            return new Case(slots, peak, loads, seconds);
        } finally {
            spark.stop();
        }
    }

    /** VmHWM of this JVM from /proc/self/status, in kB (-1 where there is no /proc). */
    static long vmHwmKb() throws IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.isReadable(status)) return -1;
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        return -1;
    }
}
