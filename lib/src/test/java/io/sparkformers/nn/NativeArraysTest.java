package io.sparkformers.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.sparkformers.nn.vision.VisionModel;
import io.sparkformers.nn.vision.VisionModels;
import io.sparkformers.nn.vision.cnn.CnnConfig;
import io.sparkformers.safetensors.Tensor;
import java.lang.reflect.Field;
import java.nio.Buffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Arrays made from Java values live where libtorch allocates (64-byte aligned), never in the JVM buffer DJL stages
 * them in (16-byte aligned, at an offset that changes from run to run): a loaded model and a fresh one place their
 * weights alike, so kernels that sum by alignment (MKL on AMD) give both the same bits.
 */
public class NativeArraysTest {

    private NDManager manager;

    @BeforeEach
    void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void close() {
        manager.close();
    }

    /** Address of a contiguous CPU array's first element (its zero-copy buffer's address; tests open java.nio). */
    public static long address(NDArray a) {
        try {
            Field f = Buffer.class.getDeclaredField("address");
            f.setAccessible(true);
            return f.getLong(a.toByteBuffer(true));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("needs --add-opens java.base/java.nio=ALL-UNNAMED", e);
        }
    }

    /** Offsets (mod 64) of the arrays that do not start on a 64-byte boundary, by name. */
    public static Map<String, Long> misaligned(Map<String, NDArray> arrays) {
        Map<String, Long> out = new LinkedHashMap<>();
        arrays.forEach((k, a) -> {
            if (address(a) % 64 != 0) out.put(k, address(a) % 64);
        });
        return out;
    }

    @Test
    void copyOfHoldsTheValuesInLibtorchMemory() {
        Map<String, NDArray> arrays = new LinkedHashMap<>();
        for (int n = 1; n <= 40; n += 3) {
            float[] v = new float[n];
            for (int i = 0; i < n; i++) v[i] = i * 0.5f - n;
            NDArray a = NativeArrays.copyOf(manager, v, new Shape(n));
            assertArrayEquals(v, a.toFloatArray());
            arrays.put("n=" + n, a);
        }
        assertEquals(Map.of(), misaligned(arrays), "arrays off a 64-byte boundary (offset by name)");
    }

    @Test
    void loadingACheckpointWritesIntoTheStorageTheParametersAlreadyHave() {
        VisionModel source = VisionModels.fromConfig(
                CnnConfig.tiny("resnet18-torchvision", 3).toJson(), true);
        source.initialize(manager);
        Map<String, Tensor> weights = StateDict.of(source);
        VisionModel target = VisionModels.fromConfig(
                CnnConfig.tiny("resnet18-torchvision", 3).toJson(), true);
        target.initialize(manager);
        Map<String, NDArray> arrays = new LinkedHashMap<>();
        Map<String, Long> before = new LinkedHashMap<>();
        ParameterNames.of(target).forEach((k, e) -> {
            arrays.put(k, e.parameter().getArray());
            before.put(k, address(e.parameter().getArray()));
        });

        StateDict.load(target, weights, StateDict.Options.STRICT);

        List<String> moved = new ArrayList<>();
        arrays.forEach((k, a) -> {
            if (address(a) != before.get(k)) moved.add(k);
        });
        assertEquals(List.of(), moved, "parameters re-pointed at other memory by the load");
        assertEquals(Map.of(), misaligned(arrays), "parameters off a 64-byte boundary after the load");
        StateDict.of(target).forEach((k, t) -> assertEquals(weights.get(k).data(), t.data(), k));
        assertEquals(DataType.INT64, arrays.get("bn1.num_batches_tracked").getDataType());
    }
}
