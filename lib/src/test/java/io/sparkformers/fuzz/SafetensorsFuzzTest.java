package io.sparkformers.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sparkformers.safetensors.SafetensorsCheckpoint;
import io.sparkformers.safetensors.SafetensorsException;
import io.sparkformers.safetensors.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Fuzzes the safetensors reader: a whole {@code .safetensors} file (8-byte length, JSON header, data buffer), and
 * the {@code model.safetensors.index.json} of a sharded checkpoint. Every tensor that opens is also read and
 * converted, so a header that passes validation but lies about its data would surface here.
 */
class SafetensorsFuzzTest {

    @FuzzTest(maxDuration = "60s")
    void safetensorsFile(byte[] bytes) throws Exception {
        Path file = Outcomes.write("single", "model.safetensors", bytes);
        Outcomes.onlyClearErrors(file.toString(), List.of(SafetensorsException.class), () -> readEveryTensor(file));
    }

    @FuzzTest(maxDuration = "60s")
    void shardedIndex(byte[] bytes) throws Exception {
        Path index = Outcomes.write("sharded", SafetensorsCheckpoint.INDEX_FILE, bytes);
        Path shard = index.resolveSibling(FuzzSeeds.SHARD_NAME);
        if (!Files.exists(shard)) Files.write(shard, FuzzSeeds.shard());
        Outcomes.onlyClearErrors(
                index.getParent().toString(),
                List.of(SafetensorsException.class),
                () -> readEveryTensor(index.getParent()));
    }

    private static void readEveryTensor(Path path) throws Exception {
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(path)) {
            for (Map.Entry<String, Tensor> e : c.readAll().entrySet()) {
                Tensor t = e.getValue();
                if (t.dtype().isFloatingPoint()) t.toFloatArray();
                else t.toLongArray();
            }
        }
    }
}
