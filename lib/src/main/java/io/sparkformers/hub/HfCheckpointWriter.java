package io.sparkformers.hub;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.safetensors.SafetensorsWriter;
import io.sparkformers.safetensors.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Optional;

/**
 * Writes a checkpoint folder the way HF {@code save_pretrained} does, so Python {@code transformers} loads it:
 * {@code config.json}, {@code model.safetensors} with metadata {@code {"format": "pt"}} (transformers checks it),
 * {@code tokenizer.json}, {@code tokenizer_config.json}, and the sentence-transformers pooling files when given.
 * Each file is written under a temporary name and renamed, so a reader never sees half a file.
 */
public final class HfCheckpointWriter {
    private HfCheckpointWriter() {}

    public static void write(
            Path dir,
            ObjectNode config,
            Map<String, Tensor> weights,
            byte[] tokenizerJson,
            TokenizerConfig tokenizerConfig,
            Optional<SentencePooling> pooling)
            throws IOException {
        Files.createDirectories(dir);
        Json.write(dir.resolve(HfCheckpoint.CONFIG), config);
        SafetensorsWriter.write(dir.resolve(HfCheckpoint.WEIGHTS), weights, Map.of("format", "pt"));
        Path tok = dir.resolve(HfCheckpoint.TOKENIZER);
        Path tmp = dir.resolve(HfCheckpoint.TOKENIZER + ".tmp");
        Files.write(tmp, tokenizerJson);
        Files.move(tmp, tok, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Json.write(dir.resolve(HfCheckpoint.TOKENIZER_CONFIG), tokenizerConfig.toJson());
        if (pooling.isPresent())
            pooling.get().write(dir, config.path("hidden_size").asInt());
    }
}
