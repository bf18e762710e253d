package io.sparkformers.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.safetensors.SafetensorsCheckpoint;
import io.sparkformers.safetensors.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What {@code models inspect} shows about a checkpoint folder, read from {@code config.json} and the safetensors
 * headers only (no weight is loaded, so inspecting a 10 GB model reads a few kilobytes).
 *
 * @param dir              the checkpoint folder
 * @param architecture     {@code config.architectures[0]} (e.g. {@code BertForSequenceClassification}), else the
 *                         {@code model_type}
 * @param modelType        {@code config.model_type}
 * @param parameterCount   the sum of every tensor's element count
 * @param parametersByDtype element counts per safetensors dtype ({@code F32}, {@code F16}, …)
 * @param labels           {@code config.id2label} by id; empty for models without a classification head
 * @param files            every file's size in bytes by path relative to {@code dir} (links followed)
 * @param totalBytes       the sum of {@code files}
 */
public record ModelInfo(
        Path dir,
        String architecture,
        String modelType,
        long parameterCount,
        Map<String, Long> parametersByDtype,
        SortedMap<Integer, String> labels,
        SortedMap<String, Long> files,
        long totalBytes) {

    /** Inspects a checkpoint folder (validated by {@link HfCheckpoint#open} first). */
    public static ModelInfo of(Path dir) throws IOException {
        HfCheckpoint ckpt = HfCheckpoint.open(dir);
        ObjectNode config = ckpt.config();
        JsonNode archs = config.path("architectures");
        String architecture = archs.isArray() && !archs.isEmpty() ? archs.get(0).asText() : ckpt.modelType();
        long params = 0;
        Map<String, Long> byDtype = new TreeMap<>();
        try (SafetensorsCheckpoint w = ckpt.openWeights()) {
            for (String name : w.names()) {
                TensorInfo t = w.info(name);
                params += t.numel();
                byDtype.merge(t.dtype().name(), t.numel(), Long::sum);
            }
        }
        SortedMap<Integer, String> labels = new TreeMap<>();
        config.path("id2label").fields().forEachRemaining(e -> {
            try {
                labels.put(Integer.parseInt(e.getKey()), e.getValue().asText());
            } catch (NumberFormatException ex) {
                throw new IllegalArgumentException(
                        dir.resolve(HfCheckpoint.CONFIG) + ": id2label key '" + e.getKey() + "' is not an integer id",
                        ex);
            }
        });
        SortedMap<String, Long> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                files.put(dir.relativize(p).toString().replace('\\', '/'), Files.size(p));
            }
        }
        long total = files.values().stream().mapToLong(Long::longValue).sum();
        return new ModelInfo(
                dir,
                architecture,
                ckpt.modelType(),
                params,
                Collections.unmodifiableMap(new LinkedHashMap<>(byDtype)),
                Collections.unmodifiableSortedMap(labels),
                Collections.unmodifiableSortedMap(files),
                total);
    }
}
