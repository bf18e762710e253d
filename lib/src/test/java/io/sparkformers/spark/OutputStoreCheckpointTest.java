package io.sparkformers.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.safetensors.SafetensorsWriter;
import io.sparkformers.safetensors.Tensor;
import io.sparkformers.train.CheckpointManager;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A remote output_dir's newest checkpoint passes the same usable-checkpoint check as a local one
 * ({@link CheckpointManager#defect}), here through Hadoop's {@code file:} file system: a checkpoint whose weights were
 * cut short, or whose trainer_state.json is not JSON, is skipped with a warning naming it.
 */
class OutputStoreCheckpointTest {
    @TempDir
    Path out;

    private static void writeLoadable(Path dir, long step) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(CheckpointManager.TRAINER_STATE_NAME), "{\"global_step\": " + step + "}");
        Files.writeString(dir.resolve(HfCheckpoint.CONFIG), "{\"model_type\": \"bert\"}");
        Map<String, Tensor> weights = Map.of("w", Tensor.ofFloats(new float[] {step, 1, 2, 3}, 4));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), weights, Map.of("format", "pt"));
        SafetensorsWriter.write(dir.resolve(CheckpointManager.OPTIMIZER_NAME), weights, Map.of("format", "pt"));
    }

    private static void truncate(Path file, long bytesLeft) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(bytesLeft);
        }
    }

    @Test
    void damagedNewerCheckpointsAreSkippedThroughTheHadoopFileSystemAsLocally() throws IOException {
        writeLoadable(out.resolve("checkpoint-3"), 3);
        writeLoadable(out.resolve("checkpoint-6"), 6);
        writeLoadable(out.resolve("checkpoint-9"), 9);
        writeLoadable(out.resolve("checkpoint-12"), 12);
        Path model9 = out.resolve("checkpoint-9/model.safetensors");
        truncate(model9, Files.size(model9) - 4); // the upload lost the tail
        Files.writeString(out.resolve("checkpoint-12/trainer_state.json"), "{\"global_step\": 1"); // cut short
        OutputStore store = new OutputStore(out.toUri().toString());
        assertTrue(store.uri().startsWith("file:"), store.uri());
        List<String> warnings = new ArrayList<>();
        assertEquals(Optional.of("checkpoint-6"), store.latestUsableThroughFileSystem(warnings::add));
        assertEquals(2, warnings.size(), warnings.toString());
        assertTrue(
                warnings.get(0).startsWith("skipping checkpoint file:" + out.resolve("checkpoint-12") + " ("),
                warnings.get(0));
        assertTrue(
                warnings.get(1).startsWith("skipping checkpoint file:" + out.resolve("checkpoint-9") + " ("),
                warnings.get(1));
        assertTrue(
                warnings.get(1).contains(out.resolve("checkpoint-9").toString() + "/model.safetensors"),
                "the remote file named, not the local mirror: " + warnings.get(1));
        assertTrue(warnings.get(1).endsWith("); trying the one before it"), warnings.get(1));
        assertEquals(
                CheckpointManager.latestUsableCheckpoint(out)
                        .map(p -> p.getFileName().toString()),
                store.latestUsableThroughFileSystem(w -> {}),
                "the same answer as the local check");
    }

    @Test
    void noCheckpointAtAllIsEmpty() throws IOException {
        assertEquals(
                Optional.empty(),
                new OutputStore(out.resolve("none").toUri().toString()).latestUsableThroughFileSystem(w -> {}));
    }
}
