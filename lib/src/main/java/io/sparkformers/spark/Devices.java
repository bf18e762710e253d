package io.sparkformers.spark;

import ai.djl.Device;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

/**
 * Which DJL device a Spark task runs its model on, from the task's own resources: a task holding a Spark {@code gpu}
 * resource ({@code spark.task.resource.gpu.amount}) runs on that GPU, otherwise on the CPU. Never
 * {@code Engine.defaultDevice()}, which is always gpu0 whatever Spark assigned.
 *
 * <p>Threads: PyTorch's intra-op pool is process-wide and sized once, when the engine starts. {@link #configureThreads}
 * sets {@code ai.djl.pytorch.num_threads} to {@code spark.task.cpus} before the first model load on an executor
 * (unless the user set it), so N task slots × spark.task.cpus threads match the executor's cores. Where the engine has
 * already started (local mode after driver-side DJL use) the property no longer has an effect: set it in
 * {@code spark.driver.extraJavaOptions} there.
 */
public final class Devices {
    /** The Param values of {@code device}. */
    public static final String AUTO = "auto";

    public static final String CPU = "cpu";
    public static final String GPU = "gpu";

    private Devices() {}

    /** The device for the running task (CPU on the driver, where there is no TaskContext). */
    public static Device forTask(TaskContext task, String mode) {
        return choose(mode, task == null ? Map.of() : task.resourcesJMap());
    }

    /**
     * The device for a task holding {@code resources} (Spark resource name → addresses).
     *
     * @param mode auto (the task's GPU if it holds one, else CPU), cpu, or gpu (the task must hold one)
     */
    public static Device choose(String mode, Map<String, ResourceInformation> resources) {
        String m = mode.toLowerCase(Locale.ROOT);
        ResourceInformation gpu = resources.get("gpu");
        boolean hasGpu = gpu != null && gpu.addresses().length > 0;
        switch (m) {
            case CPU:
                return Device.cpu();
            case AUTO:
                return hasGpu ? gpuDevice(gpu) : Device.cpu();
            case GPU:
                if (!hasGpu) {
                    throw new IllegalStateException(
                            "device=gpu but this Spark task holds no GPU: set "
                                    + "spark.executor.resource.gpu.amount and spark.task.resource.gpu.amount (or use device=auto)");
                }
                return gpuDevice(gpu);
            default:
                throw new IllegalArgumentException("device must be auto, cpu or gpu, got '" + mode + "'");
        }
    }

    private static Device gpuDevice(ResourceInformation gpu) {
        String address = gpu.addresses()[0].trim();
        try {
            return Device.gpu(Integer.parseInt(address));
        } catch (NumberFormatException e) {
            throw new IllegalStateException(
                    "Spark GPU address '" + address + "' is not a CUDA device index; the GPU "
                            + "discovery script must report indices such as \"0\"",
                    e);
        }
    }

    /**
     * Sizes PyTorch's intra-op thread pool to {@code spark.task.cpus} if nobody set {@code ai.djl.pytorch.num_threads}
     * yet. Call before the engine starts (the first model load in this JVM); later calls change nothing.
     */
    public static synchronized void configureThreads() {
        if (System.getProperty("ai.djl.pytorch.num_threads") != null) return;
        SparkEnv env = SparkEnv.get();
        int cpus = env == null ? 1 : env.conf().getInt("spark.task.cpus", 1);
        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(Math.max(1, cpus)));
    }
}
