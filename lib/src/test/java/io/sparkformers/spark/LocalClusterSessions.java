package io.sparkformers.spark;

import static org.junit.jupiter.api.Assertions.fail;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import org.apache.spark.sql.SparkSession;

/**
 * A {@code local-cluster[n,1,mb]} session for tests that need separate executor JVMs, without a Spark distribution
 * (DESIGN.md): executors take this JVM's class path and module options, and the Sparkformers home as
 * {@code SPARKFORMERS_HOME}; the stand-in Spark home is an empty {@code target/spark-home/jars}. The call returns once
 * all executors have registered; {@link #stop} ends the session and the test properties it set.
 */
public final class LocalClusterSessions {
    private LocalClusterSessions() {}

    /** Starts {@code executors} executor JVMs of one core and {@code memoryMb} each; the caller stops the session. */
    public static SparkSession start(String appName, int executors, int memoryMb) throws Exception {
        Path home = Path.of("target", "spark-home").toAbsolutePath();
        Files.createDirectories(home.resolve("jars"));
        System.setProperty("spark.testing", "true"); // the in-process Worker then reads spark.test.home
        System.setProperty("spark.test.home", home.toString());
        String jvmOpts = ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--add-opens")
                        || a.startsWith("-Dai.djl")
                        || a.startsWith("-Djdk.reflect")
                        || a.startsWith("-Dio.netty"))
                .collect(Collectors.joining(" "));
        SparkSession spark = SparkSession.builder()
                .master("local-cluster[" + executors + ",1," + memoryMb + "]")
                .appName(appName)
                .config("spark.ui.enabled", "false")
                .config("spark.executorEnv.SPARK_SCALA_VERSION", "2.13")
                .config("spark.executorEnv.TORCH_CPP_LOG_LEVEL", "ERROR")
                .config("spark.executor.extraClassPath", System.getProperty("java.class.path"))
                // Spark refuses executor options containing "-Dspark", so -Dsparkformers.home travels as the env var
                .config("spark.executor.extraJavaOptions", jvmOpts)
                .config(
                        "spark.executorEnv.SPARKFORMERS_HOME",
                        Path.of(System.getProperty("sparkformers.home"))
                                .toAbsolutePath()
                                .toString())
                .config("spark.scheduler.barrier.maxConcurrentTasksCheck.interval", "2s")
                .getOrCreate();
        long deadline = System.currentTimeMillis() + 120_000;
        while (spark.sparkContext().statusTracker().getExecutorInfos().length < executors + 1) {
            if (System.currentTimeMillis() > deadline) {
                spark.stop();
                fail("the " + executors + " executors did not register within 2 minutes");
            }
            Thread.sleep(200);
        }
        return spark;
    }

    /** Stops {@code spark} (when started) and clears the system properties {@link #start} set. */
    public static void stop(SparkSession spark) {
        if (spark != null) spark.stop();
        System.clearProperty("spark.testing");
        System.clearProperty("spark.test.home");
    }
}
