package io.sparkformers.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The weights of an HF checkpoint: one {@code model.safetensors}, or shards listed by a
 * {@code model.safetensors.index.json} ({@code {"metadata": {"total_size": N}, "weight_map": {name: shard file}}})
 * as {@code transformers}' {@code save_pretrained} writes them. Opened from either file or from the directory that
 * holds it; tensors are read lazily and memory-mapped through {@link SafetensorsFile}.
 *
 * <p>Opening validates every shard's header and that each shard named in the index exists and holds exactly the
 * tensors the index maps to it. {@code total_size} is exposed but not checked: {@code transformers} computes it from
 * storage sizes, which may legitimately differ from the sum of the tensors' bytes.
 */
public final class SafetensorsCheckpoint implements AutoCloseable {

    /** Weights file of an unsharded HF checkpoint. */
    public static final String SINGLE_FILE = "model.safetensors";
    /** Index of a sharded HF checkpoint. */
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private static final String INDEX_SUFFIX = ".safetensors.index.json";
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final Path path;
    private final List<SafetensorsFile> shards;
    private final Map<String, SafetensorsFile> byName; // sorted by name
    private final Map<String, String> indexMetadata;

    private SafetensorsCheckpoint(
            Path path,
            List<SafetensorsFile> shards,
            Map<String, SafetensorsFile> byName,
            Map<String, String> indexMetadata) {
        this.path = path;
        this.shards = shards;
        this.byName = byName;
        this.indexMetadata = indexMetadata;
    }

    /**
     * Opens a {@code .safetensors} file, a {@code *.safetensors.index.json}, or a directory holding one of them.
     * In a directory {@code model.safetensors} wins over {@code model.safetensors.index.json} (the precedence of
     * {@code transformers}); failing both, a lone {@code *.safetensors.index.json} or a lone {@code *.safetensors}.
     * Pickled weights ({@code pytorch_model.bin}) are refused, never read.
     */
    public static SafetensorsCheckpoint open(Path path) throws IOException {
        if (Files.isDirectory(path)) return open(resolveInDirectory(path));
        if (!Files.exists(path)) throw new SafetensorsException(path, "no such file or directory");
        if (path.getFileName().toString().endsWith(".bin")) throw pickleRefused(path);
        if (path.getFileName().toString().endsWith(".json")) return openIndex(path);
        SafetensorsFile f = SafetensorsFile.open(path);
        Map<String, SafetensorsFile> byName = new TreeMap<>();
        for (String n : f.names()) byName.put(n, f);
        return new SafetensorsCheckpoint(path, List.of(f), Collections.unmodifiableMap(byName), Map.of());
    }

    private static Path resolveInDirectory(Path dir) throws IOException {
        if (Files.isRegularFile(dir.resolve(SINGLE_FILE))) return dir.resolve(SINGLE_FILE);
        if (Files.isRegularFile(dir.resolve(INDEX_FILE))) return dir.resolve(INDEX_FILE);
        List<Path> indexes = new ArrayList<>();
        List<Path> singles = new ArrayList<>();
        Path pickle = null;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (n.endsWith(INDEX_SUFFIX)) indexes.add(p);
                else if (n.endsWith(".safetensors")) singles.add(p);
                else if (n.equals("pytorch_model.bin") || n.equals("pytorch_model.bin.index.json")) pickle = p;
            }
        }
        if (indexes.size() == 1) return indexes.get(0);
        if (indexes.isEmpty() && singles.size() == 1) return singles.get(0);
        if (indexes.isEmpty() && singles.isEmpty() && pickle != null) throw pickleRefused(pickle);
        throw new SafetensorsException(
                dir,
                "expected " + SINGLE_FILE + " or " + INDEX_FILE + ", or exactly one "
                        + "*.safetensors / *" + INDEX_SUFFIX + "; found indexes " + names(indexes) + " and files "
                        + names(singles));
    }

    private static List<String> names(List<Path> paths) {
        return paths.stream().map(p -> p.getFileName().toString()).sorted().toList();
    }

    private static SafetensorsException pickleRefused(Path p) {
        return new SafetensorsException(
                p,
                "PyTorch pickle checkpoints are never read (unpickling runs arbitrary "
                        + "code); convert it to safetensors first, e.g. in Python "
                        + "model.save_pretrained(dir, safe_serialization=True)");
    }

    private static SafetensorsCheckpoint openIndex(Path index) throws IOException {
        // An index lists names only (about 100 bytes a tensor): anything near the header cap is not an index.
        long size = Files.size(index);
        if (size > SafetensorsFile.MAX_HEADER_BYTES) {
            throw new SafetensorsException(
                    index,
                    "index is " + size + " bytes, more than the " + SafetensorsFile.MAX_HEADER_BYTES + "-byte cap");
        }
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(index));
        } catch (JsonProcessingException e) {
            throw new SafetensorsException(index, "index is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (java.io.CharConversionException e) { // bytes in no encoding JSON allows (UTF-8/16/32)
            throw new SafetensorsException(index, "index is not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) throw new SafetensorsException(index, "index must be a JSON object");
        JsonNode weightMap = root.get("weight_map");
        if (weightMap == null || !weightMap.isObject()) {
            throw new SafetensorsException(index, "index has no \"weight_map\" object");
        }
        Map<String, String> indexMetadata = new LinkedHashMap<>();
        JsonNode meta = root.get("metadata");
        if (meta != null && !meta.isNull()) {
            if (!meta.isObject()) throw new SafetensorsException(index, "index \"metadata\" must be an object");
            for (Map.Entry<String, JsonNode> e : meta.properties()) {
                JsonNode v = e.getValue();
                indexMetadata.put(e.getKey(), v.isTextual() ? v.textValue() : v.toString());
            }
        }

        Path dir = index.toAbsolutePath().normalize().getParent();
        Map<String, Set<String>> expected = new TreeMap<>(); // shard file name -> tensor names
        for (Map.Entry<String, JsonNode> e : weightMap.properties()) {
            if (!e.getValue().isTextual()) {
                throw new SafetensorsException(
                        index,
                        "weight_map value of '" + e.getKey() + "' must be a shard file name, found " + e.getValue());
            }
            expected.computeIfAbsent(e.getValue().textValue(), k -> new TreeSet<>())
                    .add(e.getKey());
        }

        List<SafetensorsFile> shards = new ArrayList<>();
        Map<String, SafetensorsFile> byName = new TreeMap<>();
        try {
            for (Map.Entry<String, Set<String>> e : expected.entrySet()) {
                String shardName = e.getKey();
                Set<String> listed = e.getValue();
                Path shard = dir.resolve(shardName).normalize();
                if (!shard.getParent().equals(dir)) {
                    throw new SafetensorsException(
                            index, "shard '" + shardName + "' is not a file name in the index's directory");
                }
                if (!Files.isRegularFile(shard)) {
                    throw new SafetensorsException(
                            index,
                            "shard '" + shardName + "' does not exist, but the index " + "maps " + listed.size()
                                    + " tensors to it (e.g. '"
                                    + listed.iterator().next() + "')");
                }
                SafetensorsFile f = SafetensorsFile.open(shard);
                shards.add(f);
                Set<String> missing = new TreeSet<>(listed);
                missing.removeAll(f.names());
                if (!missing.isEmpty()) {
                    throw new SafetensorsException(
                            index,
                            "shard '" + shardName + "' lacks " + missing.size() + " tensors the index maps to it: "
                                    + preview(missing));
                }
                Set<String> extra = new TreeSet<>(f.names());
                extra.removeAll(listed);
                if (!extra.isEmpty()) {
                    throw new SafetensorsException(
                            index,
                            "shard '" + shardName + "' holds " + extra.size()
                                    + " tensors the index does not map to it: " + preview(extra));
                }
                for (String n : listed) byName.put(n, f);
            }
        } catch (IOException | RuntimeException ex) {
            for (SafetensorsFile f : shards) {
                try {
                    f.close();
                } catch (IOException suppressed) {
                    ex.addSuppressed(suppressed);
                }
            }
            throw ex;
        }
        return new SafetensorsCheckpoint(
                index,
                List.copyOf(shards),
                Collections.unmodifiableMap(byName),
                Collections.unmodifiableMap(indexMetadata));
    }

    private static String preview(Set<String> names) {
        List<String> first = names.stream().limit(5).map(n -> "'" + n + "'").toList();
        return String.join(", ", first) + (names.size() > first.size() ? ", …" : "");
    }

    /** The file opened: the single {@code .safetensors} file or the index. */
    public Path path() {
        return path;
    }

    /** True when the checkpoint was opened from an index. */
    public boolean isSharded() {
        return path.getFileName().toString().endsWith(".json");
    }

    /** The weight files, in shard-name order (one for an unsharded checkpoint). */
    public List<Path> files() {
        return shards.stream().map(SafetensorsFile::file).toList();
    }

    /** Tensor names over all shards, sorted; unmodifiable. */
    public Set<String> names() {
        return byName.keySet();
    }

    /** True if some shard holds a tensor named {@code name}. */
    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    /** The weight file holding tensor {@code name}. */
    public Path fileOf(String name) throws SafetensorsException {
        return shardOf(name).file();
    }

    /**
     * The safetensors {@code __metadata__} of the first shard (e.g. {@code {"format": "pt"}}); {@code transformers}
     * writes the same metadata into every shard.
     */
    public Map<String, String> metadata() {
        return shards.isEmpty() ? Map.of() : shards.get(0).metadata();
    }

    /**
     * The index's {@code "metadata"} object (e.g. {@code total_size}), non-string values as their JSON text; empty
     * for an unsharded checkpoint.
     */
    public Map<String, String> indexMetadata() {
        return indexMetadata;
    }

    /** Header entry of tensor {@code name}; offsets are relative to its shard's data buffer. */
    public TensorInfo info(String name) throws SafetensorsException {
        return shardOf(name).info(name);
    }

    /** Tensor {@code name}, memory-mapped; see {@link SafetensorsFile#tensor}. */
    public Tensor tensor(String name) throws IOException {
        return shardOf(name).tensor(name);
    }

    /** Part of tensor {@code name}, memory-mapped; see {@link SafetensorsFile#slice}. */
    public ByteBuffer slice(String name, long offset, int length) throws IOException {
        return shardOf(name).slice(name, offset, length);
    }

    /** Every tensor of every shard, sorted by name. */
    public Map<String, Tensor> readAll() throws IOException {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, SafetensorsFile> e : byName.entrySet())
            out.put(e.getKey(), e.getValue().tensor(e.getKey()));
        return out;
    }

    private SafetensorsFile shardOf(String name) throws SafetensorsException {
        SafetensorsFile f = byName.get(name);
        if (f == null) {
            throw new SafetensorsException(
                    path, "no tensor named '" + name + "' in this checkpoint (" + byName.size() + " tensors)");
        }
        return f;
    }

    /** Closes every shard; buffers already returned stay readable. */
    @Override
    public void close() throws IOException {
        IOException first = null;
        for (SafetensorsFile f : shards) {
            try {
                f.close();
            } catch (IOException e) {
                if (first == null) first = e;
                else first.addSuppressed(e);
            }
        }
        if (first != null) throw first;
    }

    @Override
    public String toString() {
        return "SafetensorsCheckpoint[" + path + ", " + shards.size() + " files, " + byName.size() + " tensors]";
    }
}
