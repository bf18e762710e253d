package io.sparkformers.safetensors;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Writer for {@code .safetensors} files and HF-style sharded checkpoints, following the format spec of the Hugging
 * Face {@code safetensors} library and the shard layout of {@code transformers}' {@code save_pretrained}.
 *
 * <p>Tensors are written in name order (the reference sorts by dtype alignment, then name; any order is valid and
 * name order is deterministic), with {@code __metadata__} first in the header when there is any metadata. The header
 * is padded with spaces to a multiple of 8 bytes, as the reference does, so the data buffer starts 8-aligned.
 * Every file goes to a temporary file in the same directory that is renamed over the target only once complete, so
 * a reader never sees a half-written file. Tensor bytes are streamed from each tensor's buffer to the file, never
 * gathered into one array.
 */
public final class SafetensorsWriter {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private SafetensorsWriter() {}

    /**
     * Writes {@code tensors} and {@code metadata} (may be empty or null) to {@code file}, replacing it atomically.
     *
     * @throws IllegalArgumentException if a tensor is named {@code __metadata__} (reserved by the format)
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        Map<String, Tensor> sorted = sortedChecked(tensors);
        byte[] header = header(sorted, metadata == null ? Map.of() : metadata);
        writeAtomically(file, ch -> {
            ByteBuffer len =
                    ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            writeFully(ch, len);
            writeFully(ch, ByteBuffer.wrap(header));
            for (Tensor t : sorted.values()) writeFully(ch, t.data());
        });
    }

    /**
     * Writes a checkpoint the way {@code transformers}' {@code save_pretrained} does: tensors (in name order) are
     * packed greedily into shards of at most {@code maxShardBytes} bytes of tensor data; a tensor larger than that
     * gets a shard of its own. Shards are {@code <baseName>-00001-of-00003.safetensors}, … with an index
     * {@code <baseName>.safetensors.index.json} ({@code {"metadata": {"total_size": N}, "weight_map": {name: shard}}},
     * keys sorted, two-space indent, as Python's {@code json.dumps(indent=2, sort_keys=True)} prints it). When one
     * shard is enough, a single {@code <baseName>.safetensors} is written and no index. Every shard carries
     * {@code metadata}. Files of an earlier save under the same base name that this save does not produce (stale
     * shards, an index beside a single file or the reverse) are deleted afterwards, so the directory holds exactly
     * one checkpoint; the index is written last.
     *
     * @param dir           target directory, created if missing
     * @param baseName      file base name, {@code "model"} for HF checkpoints
     * @param maxShardBytes largest shard in bytes of tensor data ({@code transformers}' default is 5 GB, 5e9)
     * @return the files written: the shards in order, then the index if there is one
     */
    public static List<Path> writeSharded(
            Path dir, String baseName, Map<String, Tensor> tensors, Map<String, String> metadata, long maxShardBytes)
            throws IOException {
        if (maxShardBytes <= 0) throw new IllegalArgumentException("maxShardBytes must be > 0, got " + maxShardBytes);
        if (baseName.isEmpty() || baseName.contains("/") || baseName.contains("\\")) {
            throw new IllegalArgumentException("baseName must be a plain file name, got '" + baseName + "'");
        }
        Map<String, Tensor> sorted = sortedChecked(tensors);

        // Greedy packing, as huggingface_hub.split_state_dict_into_shards_factory does it.
        List<Map<String, Tensor>> shards = new ArrayList<>();
        Map<String, Tensor> current = new LinkedHashMap<>();
        long currentBytes = 0;
        long totalBytes = 0;
        for (Map.Entry<String, Tensor> e : sorted.entrySet()) {
            long bytes = e.getValue().data().remaining();
            totalBytes += bytes;
            if (bytes > maxShardBytes) {
                shards.add(Map.of(e.getKey(), e.getValue()));
                continue;
            }
            if (currentBytes + bytes > maxShardBytes && !current.isEmpty()) {
                shards.add(current);
                current = new LinkedHashMap<>();
                currentBytes = 0;
            }
            current.put(e.getKey(), e.getValue());
            currentBytes += bytes;
        }
        if (!current.isEmpty() || shards.isEmpty()) shards.add(current);

        Files.createDirectories(dir);
        Path single = dir.resolve(baseName + ".safetensors");
        Path index = dir.resolve(baseName + ".safetensors.index.json");
        List<Path> written = new ArrayList<>();
        if (shards.size() == 1) {
            write(single, shards.get(0), metadata);
            written.add(single);
        } else {
            Map<String, String> weightMap = new TreeMap<>();
            for (int i = 0; i < shards.size(); i++) {
                String name = shardFileName(baseName, i + 1, shards.size());
                Path shard = dir.resolve(name);
                write(shard, shards.get(i), metadata);
                written.add(shard);
                for (String t : shards.get(i).keySet()) weightMap.put(t, name);
            }
            byte[] json = indexJson(totalBytes, weightMap).getBytes(StandardCharsets.UTF_8);
            writeAtomically(index, ch -> writeFully(ch, ByteBuffer.wrap(json)));
            written.add(index);
        }
        deleteStale(dir, baseName, written, single, index);
        return written;
    }

    /** {@code model-00001-of-00003.safetensors}: the shard naming of {@code transformers}. */
    public static String shardFileName(String baseName, int shard, int shardCount) {
        return String.format("%s-%05d-of-%05d.safetensors", baseName, shard, shardCount);
    }

    private static void deleteStale(Path dir, String baseName, List<Path> written, Path single, Path index)
            throws IOException {
        Pattern shardName = Pattern.compile(Pattern.quote(baseName) + "-\\d{5}-of-\\d{5}\\.safetensors");
        List<Path> stale = new ArrayList<>();
        if (!written.contains(single)) stale.add(single);
        if (!written.contains(index)) stale.add(index);
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                if (shardName.matcher(p.getFileName().toString()).matches() && !written.contains(p)) stale.add(p);
            }
        }
        for (Path p : stale) Files.deleteIfExists(p);
    }

    private static Map<String, Tensor> sortedChecked(Map<String, Tensor> tensors) {
        Map<String, Tensor> sorted = new TreeMap<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            if (e.getKey() == null || e.getValue() == null) {
                throw new IllegalArgumentException("null tensor name or tensor: " + e);
            }
            if (e.getKey().equals(SafetensorsFile.METADATA_KEY)) {
                throw new IllegalArgumentException("'" + SafetensorsFile.METADATA_KEY
                        + "' is reserved by the safetensors header and cannot name a tensor");
            }
            sorted.put(e.getKey(), e.getValue());
        }
        return sorted;
    }

    /** The JSON header, padded with spaces to a multiple of 8 bytes. */
    static byte[] header(Map<String, Tensor> sorted, Map<String, String> metadata) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = root.putObject(SafetensorsFile.METADATA_KEY);
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : sorted.entrySet()) {
            Tensor t = e.getValue();
            ObjectNode entry = root.putObject(e.getKey());
            entry.put("dtype", t.dtype().name());
            ArrayNode shape = entry.putArray("shape");
            for (long d : t.shape()) shape.add(d);
            long end = offset + t.data().remaining();
            entry.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json = JSON.writeValueAsBytes(root);
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = new byte[padded];
        System.arraycopy(json, 0, out, 0, json.length);
        for (int i = json.length; i < padded; i++) out[i] = ' ';
        return out;
    }

    /** The index JSON exactly as {@code json.dumps(index, indent=2, sort_keys=True) + "\n"} prints it. */
    static String indexJson(long totalSize, Map<String, String> sortedWeightMap) {
        StringBuilder sb = new StringBuilder();
        sb.append("{\n  \"metadata\": {\n    \"total_size\": ")
                .append(totalSize)
                .append("\n  },\n");
        sb.append("  \"weight_map\": {");
        boolean first = true;
        for (Map.Entry<String, String> e : sortedWeightMap.entrySet()) {
            sb.append(first ? "\n" : ",\n").append("    ");
            pythonQuote(sb, e.getKey());
            sb.append(": ");
            pythonQuote(sb, e.getValue());
            first = false;
        }
        sb.append(first ? "}\n}\n" : "\n  }\n}\n");
        return sb.toString();
    }

    /** A JSON string as Python's {@code json} writes it with {@code ensure_ascii=True}: only space..~ unescaped. */
    private static void pythonQuote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || c > 0x7e) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }

    private interface ChannelWriter {
        void writeTo(FileChannel ch) throws IOException;
    }

    /**
     * Writes to a temporary sibling, forces it to disk, then renames it over {@code target}. The temporary file is
     * created with the default permissions (not {@link Files#createTempFile}'s owner-only ones), because it becomes
     * the checkpoint that other users' executors read.
     */
    private static void writeAtomically(Path target, ChannelWriter body) throws IOException {
        Path abs = target.toAbsolutePath();
        Path tmp = abs.resolveSibling("." + abs.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW)) {
                body.writeTo(ch);
                ch.force(false);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) ch.write(buf);
    }
}
