package io.sparkformers.spark;

import static org.junit.jupiter.api.Assertions.fail;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import org.apache.spark.sql.SparkSession;

/**
 * A {@code local-cluster[n,1,mb]} session for tests that need separate executor JVMs, without a Spark distribution
 * (DESIGN.md): executors take this JVM's class path and module options, and the call returns once all have
 * registered.
 */
public final class LocalClusterSessions {
    private LocalClusterSessions() {}

    /** Starts {@code executors} executor JVMs of one core and {@code memoryMb} each; the caller stops the session. */
    public static SparkSession start(String appName, int executors, int memoryMb) throws Exception {
        Path home = Path.of("target", "spark-home").toAbsolutePath();
        Files.createDirectories(home.resolve("jars"));
        System.setProperty("spark.testing", "true");
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
}
