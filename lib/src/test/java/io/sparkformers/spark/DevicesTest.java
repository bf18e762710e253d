package io.sparkformers.spark;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.Device;
import java.util.Map;
import org.apache.spark.resource.ResourceInformation;
import org.junit.jupiter.api.Test;

/** The device choice from simulated Spark task resources (no GPU needed). */
class DevicesTest {

    private static Map<String, ResourceInformation> gpus(String... addresses) {
        return Map.of("gpu", new ResourceInformation("gpu", addresses));
    }

    @Test
    void taskHoldingAGpuRunsOnThatGpu() {
        assertEquals(Device.gpu(3), Devices.choose("auto", gpus("3")));
        assertEquals(Device.gpu(1), Devices.choose("gpu", gpus("1", "2")), "the first address a task holds");
    }

    @Test
    void taskWithoutGpuRunsOnCpu() {
        assertEquals(Device.cpu(), Devices.choose("auto", Map.of()));
        assertEquals(Device.cpu(), Devices.choose("auto", gpus()));
        assertEquals(Device.cpu(), Devices.forTask(null, "auto"), "the driver has no TaskContext");
    }

    @Test
    void cpuModeIgnoresTheGpu() {
        assertEquals(Device.cpu(), Devices.choose("cpu", gpus("0")));
    }

    @Test
    void gpuModeWithoutAGpuSaysWhichConfToSet() {
        var e = assertThrows(IllegalStateException.class, () -> Devices.choose("gpu", Map.of()));
        assertTrue(e.getMessage().contains("spark.task.resource.gpu.amount"), e.getMessage());
    }

    @Test
    void nonNumericAddressAndUnknownModeAreErrors() {
        var e = assertThrows(IllegalStateException.class, () -> Devices.choose("auto", gpus("GPU-8f2a")));
        assertTrue(e.getMessage().contains("GPU-8f2a"), e.getMessage());
        var m = assertThrows(IllegalArgumentException.class, () -> Devices.choose("tpu", Map.of()));
        assertTrue(m.getMessage().contains("'tpu'"), m.getMessage());
    }
}
