package io.sparkformers.hub;

import static org.junit.jupiter.api.Assertions.*;

import io.sparkformers.safetensors.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfCheckpointTest {

    @TempDir
    Path tmp;

    private Path writeTinyCheckpoint(Optional<SentencePooling> pooling) throws IOException {
        var config = Json.MAPPER
                .createObjectNode()
                .put("model_type", "bert")
                .put("hidden_size", 4)
                .put("max_position_embeddings", 16)
                .put("some_future_key", "kept");
        Path dir = tmp.resolve("ckpt");
        HfCheckpointWriter.write(
                dir,
                config,
                Map.of("w", Tensor.ofFloats(new float[] {1, 2, 3, 4}, 2, 2)),
                "{\"version\":\"1.0\"}".getBytes(),
                TokenizerConfig.bertUncased(16),
                pooling);
        return dir;
    }

    @Test
    void savedFolderReopensWithSameConfigWeightsAndPooling() throws IOException {
        Path dir = writeTinyCheckpoint(Optional.of(new SentencePooling(SentencePooling.Mode.MEAN, true)));
        HfCheckpoint ckpt = HfCheckpoint.open(dir);
        assertEquals("bert", ckpt.modelType());
        assertEquals("kept", ckpt.config().get("some_future_key").asText());
        assertEquals(16, ckpt.tokenizerConfig().modelMaxLength());
        assertTrue(ckpt.tokenizerConfig().doLowerCase());
        assertEquals("[MASK]", ckpt.tokenizerConfig().maskToken());
        assertEquals(Optional.of(new SentencePooling(SentencePooling.Mode.MEAN, true)), ckpt.pooling());
        try (var w = ckpt.openWeights()) {
            assertEquals(Tensor.ofFloats(new float[] {1, 2, 3, 4}, 2, 2), w.tensor("w"));
            assertEquals("pt", w.metadata().get("format"), "transformers refuses safetensors without format=pt");
        }
        assertTrue(Files.isRegularFile(ckpt.tokenizerJson()));
    }

    @Test
    void missingFolderIsNamed() {
        IOException e = assertThrows(IOException.class, () -> HfCheckpoint.open(tmp.resolve("nope")));
        assertTrue(e.getMessage().contains("nope") && e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void folderWithoutConfigSaysWhatACheckpointNeeds() throws IOException {
        Files.createDirectories(tmp.resolve("empty"));
        IOException e = assertThrows(IOException.class, () -> HfCheckpoint.open(tmp.resolve("empty")));
        assertTrue(e.getMessage().contains("has no config.json"), e.getMessage());
    }

    @Test
    void pickleWeightsAreRefusedWithTheConversionHint() throws IOException {
        Path dir = writeTinyCheckpoint(Optional.empty());
        Files.delete(dir.resolve(HfCheckpoint.WEIGHTS));
        Files.write(dir.resolve("pytorch_model.bin"), new byte[] {(byte) 0x80, 2});
        UnsafeCheckpointException e = assertThrows(UnsafeCheckpointException.class, () -> HfCheckpoint.open(dir));
        assertTrue(
                e.getMessage().contains("pytorch_model.bin")
                        && e.getMessage().contains("arbitrary code")
                        && e.getMessage().contains("safe_serialization=True"),
                e.getMessage());
    }

    @Test
    void configWithoutModelTypeIsRefused() throws IOException {
        Path dir = writeTinyCheckpoint(Optional.empty());
        Files.writeString(dir.resolve("config.json"), "{\"hidden_size\": 4}");
        IOException e = assertThrows(IOException.class, () -> HfCheckpoint.open(dir));
        assertTrue(e.getMessage().contains("model_type"), e.getMessage());
    }

    @Test
    void malformedConfigNamesTheFile() throws IOException {
        Path dir = writeTinyCheckpoint(Optional.empty());
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": ");
        IOException e = assertThrows(IOException.class, () -> HfCheckpoint.open(dir));
        assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("not valid JSON"), e.getMessage());
    }

    @Test
    void hugeModelMaxLengthSentinelMeansUnbounded() {
        var json = Json.MAPPER.createObjectNode().put("model_max_length", 1e30);
        assertEquals(TokenizerConfig.UNBOUNDED, TokenizerConfig.fromJson(json).modelMaxLength());
    }

    @Test
    void unsupportedPoolingModeIsRefused() throws IOException {
        Path dir = writeTinyCheckpoint(Optional.of(new SentencePooling(SentencePooling.Mode.CLS, false)));
        Files.writeString(dir.resolve("1_Pooling/config.json"), "{\"pooling_mode_max_tokens\": true}");
        IOException e = assertThrows(IOException.class, () -> HfCheckpoint.open(dir));
        assertTrue(e.getMessage().contains("pooling_mode_max_tokens"), e.getMessage());
    }
}
