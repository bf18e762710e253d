package io.sparkformers.hub;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * The per-host cache of checkpoint folders that executors do not find on their own disk: folders read from Hadoop
 * FileSystem URIs, and models a driver shipped to its executors ({@link #store}, keyed by content). The first task on a
 * host copies the folder to local disk, later tasks and other executor JVMs on the host reuse the copy. Layout under
 * {@code <sparkformers home>/cache}:
 * <pre>
 * {key}/         the copied checkpoint; present only when complete (filled as .{key}.tmp-{uuid}, then renamed)
 * {key}.json     where it came from: uri, modification time, size (for {@code models list})
 * {key}.lock     the host-wide lock held while copying
 * </pre>
 * For a URI, {@code key} is the sha256 of the URI and of every file's path, size and modification time, so a model
 * changed at its source is copied again; for a shipped model, the sha256 of its files' names, sizes and bytes
 * ({@link #contentKey}). Only the files of a checkpoint are copied: hidden files ({@code .crc} checksums,
 * {@code _SUCCESS}) and pickle weights beside safetensors are skipped.
 */
public final class ModelCache {
    private static final AtomicInteger COPIES = new AtomicInteger();

    /** One file of a source folder, {@code path} relative to the folder with '/' separators. */
    public record SourceFile(String path, long size, long modificationTime) {}

    /**
     * One cached copy.
     *
     * @param source           the URI it was copied from
     * @param modificationTime the newest modification time among the source's files (ms since the epoch)
     * @param size             bytes copied
     */
    public record Entry(String source, long modificationTime, long size, Path dir) {}

    private final Path root;

    public ModelCache(Path root) {
        this.root = root;
    }

    /** The cache under {@link SparkformersHome}. */
    public static ModelCache defaultCache() {
        return new ModelCache(SparkformersHome.get().resolve("cache"));
    }

    /** A local copy of the checkpoint folder at {@code uri} in the default cache; safe from any thread or JVM. */
    public static Path localCopy(String uri) throws IOException {
        return defaultCache().copyOf(uri, Map.of());
    }

    /** As {@link #localCopy(String)}, with Hadoop configuration overrides (e.g. a Spark job's {@code spark.hadoop.*}). */
    public static Path localCopy(String uri, Map<String, String> hadoopConf) throws IOException {
        return defaultCache().copyOf(uri, hadoopConf);
    }

    /**
     * Checks, without copying anything, that {@code uri} lists a checkpoint folder (or, with {@code tokenizerOnly}, a
     * folder holding tokenizer.json): what a driver does before a job whose executors copy the folder.
     */
    public static void checkSource(String uri, Map<String, String> hadoopConf, boolean tokenizerOnly)
            throws IOException {
        List<SourceFile> files = listSource(uri, hadoopConf).files();
        if (!tokenizerOnly) {
            files = checkpointFiles(uri, files);
            if (files.stream()
                    .noneMatch(f ->
                            f.path().equals(HfCheckpoint.WEIGHTS) || f.path().equals(HfCheckpoint.WEIGHTS_INDEX))) {
                throw new IOException(uri + " has no " + HfCheckpoint.WEIGHTS + " (or " + HfCheckpoint.WEIGHTS_INDEX
                        + "): save the model with save_pretrained(safe_serialization=True)");
            }
        }
        if (files.stream().noneMatch(f -> f.path().equals(HfCheckpoint.TOKENIZER))) {
            throw new IOException(uri + " has no " + HfCheckpoint.TOKENIZER
                    + "; the stages need the fast-tokenizer file " + "(save it with tokenizer.save_pretrained)");
        }
    }

    /** Copies made by this JVM since it started (a host-level cache hit makes none). */
    public static int copiesMade() {
        return COPIES.get();
    }

    public Path root() {
        return root;
    }

    /**
     * The local copy of the folder at {@code uri}, made first if this host has none for the source's current
     * version. The copy runs under a host-wide lock into a temporary folder renamed into place, so a killed copy
     * never leaves a folder that loads.
     */
    public Path copyOf(String uri, Map<String, String> hadoopConf) throws IOException {
        HadoopSource source = listSource(uri, hadoopConf);
        List<SourceFile> files = checkpointFiles(uri, source.files());
        return fill(key(uri, files), uri, files, (f, to) -> source.copy(f, to));
    }

    /**
     * The cached folder for {@code contentKey} (see {@link #contentKey}), filled by {@code writer} when this host has
     * none yet: how executors keep a model the driver shipped to them, once per host whichever executor JVM or
     * application received it first.
     *
     * @param source what the copy is of, for {@code models list}
     * @param files  the files to write: relative path and size
     * @param writer writes one file's bytes to the given path (its parent folder exists)
     */
    public Path store(String contentKey, String source, Map<String, Long> files, FileWriter writer) throws IOException {
        if (!contentKey.matches("[0-9a-f]{64}")) throw new IllegalArgumentException("not a content key: " + contentKey);
        long now = System.currentTimeMillis();
        List<SourceFile> listed = new ArrayList<>();
        files.forEach((path, size) -> listed.add(new SourceFile(path, size, now)));
        return fill(contentKey, source, listed, (f, to) -> {
            Files.createDirectories(to.getParent());
            writer.write(f.path(), to);
            if (Files.size(to) != f.size()) {
                throw new IOException(
                        "shipped file " + f.path() + " arrived with " + Files.size(to) + " bytes, not " + f.size());
            }
        });
    }

    /** Writes one file of a model into the cache. */
    @FunctionalInterface
    public interface FileWriter {
        void write(String path, Path to) throws IOException;
    }

    /**
     * SHA-256 of the names, sizes and bytes of {@code files} in {@code dir}: equal keys mean equal models, wherever
     * the folder lies.
     */
    public static String contentKey(Path dir, List<String> files) throws IOException {
        return contentKey(dir, files, 1 << 20, (file, piece) -> {});
    }

    /**
     * {@link #contentKey(Path, List)}, handing each file's bytes to {@code pieces} as they are read, in pieces of at
     * most {@code pieceSize} bytes (file after file, in order): for callers that need the bytes too, so the files are
     * read once.
     */
    public static String contentKey(Path dir, List<String> files, int pieceSize, PieceConsumer pieces)
            throws IOException {
        MessageDigest md = sha256();
        for (String f : files) {
            Path p = dir.resolve(f);
            long size = Files.size(p);
            md.update(("\n" + f + "\t" + size + "\n").getBytes(StandardCharsets.UTF_8));
            try (var in = Files.newInputStream(p)) {
                for (long left = size; left > 0; ) {
                    byte[] piece = in.readNBytes((int) Math.min(pieceSize, left));
                    if (piece.length == 0) throw new IOException(p + " shrank while being read");
                    md.update(piece);
                    pieces.accept(f, piece);
                    left -= piece.length;
                }
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Receives the bytes of a file read by {@link #contentKey(Path, List, int, PieceConsumer)}. */
    @FunctionalInterface
    public interface PieceConsumer {
        void accept(String file, byte[] piece) throws IOException;
    }

    @FunctionalInterface
    private interface FileCopier {
        void copy(SourceFile file, Path to) throws IOException;
    }

    /**
     * {@code root/key}, filled by {@code copier} under a host-wide lock into a temporary folder renamed into place, so
     * a killed copy never leaves a folder that loads.
     */
    private Path fill(String key, String source, List<SourceFile> files, FileCopier copier) throws IOException {
        Path dir = root.resolve(key);
        if (Files.isDirectory(dir)) return dir;
        return HostLock.holding(root.resolve(key + ".lock"), () -> {
            if (Files.isDirectory(dir)) return dir; // filled by another thread or JVM while we waited
            deleteLeftovers(key);
            Path tmp = root.resolve("." + key + ".tmp-" + UUID.randomUUID());
            try {
                for (SourceFile f : files) copier.copy(f, tmp.resolve(f.path()));
                ObjectNode info = Json.MAPPER
                        .createObjectNode()
                        .put("source", source)
                        .put(
                                "modification_time",
                                files.stream()
                                        .mapToLong(SourceFile::modificationTime)
                                        .max()
                                        .orElse(0))
                        .put("size", files.stream().mapToLong(SourceFile::size).sum());
                Json.write(root.resolve(key + ".json"), info);
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
                COPIES.incrementAndGet();
            } finally {
                deleteTree(tmp);
            }
            return dir;
        });
    }

    /** The copies in this cache. */
    public List<Entry> entries() throws IOException {
        List<Entry> out = new ArrayList<>();
        if (!Files.isDirectory(root)) return out;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root, "*.json")) {
            for (Path info : ds) {
                String key = info.getFileName().toString().replaceFirst("\\.json$", "");
                Path dir = root.resolve(key);
                if (!Files.isDirectory(dir)) continue;
                ObjectNode n = Json.readObject(info);
                out.add(new Entry(
                        n.path("source").asText(),
                        n.path("modification_time").asLong(),
                        n.path("size").asLong(),
                        dir));
            }
        }
        out.sort(Comparator.comparing(Entry::source).thenComparing(Entry::modificationTime));
        return out;
    }

    private static HadoopSource listSource(String uri, Map<String, String> hadoopConf) throws IOException {
        try {
            return HadoopSource.list(uri, hadoopConf);
        } catch (NoClassDefFoundError e) {
            throw new IOException(
                    "reading " + uri + " needs the Hadoop client on the class path (Spark ships it; "
                            + "from plain Java add hadoop-client-api and hadoop-client-runtime), or use a local folder",
                    e);
        }
    }

    /** The files worth copying; the same errors as {@link HfCheckpoint#open} but naming the URI, before any copy. */
    static List<SourceFile> checkpointFiles(String uri, List<SourceFile> all) throws IOException {
        List<SourceFile> visible = all.stream()
                .filter(f -> Stream.of(f.path().split("/")).noneMatch(s -> s.startsWith(".") || s.startsWith("_")))
                .toList();
        boolean hasConfig = visible.stream().anyMatch(f -> f.path().equals(HfCheckpoint.CONFIG));
        if (!hasConfig) {
            throw new IOException(
                    uri + " has no config.json: not a Hugging Face checkpoint folder (expected config.json, "
                            + "model.safetensors and tokenizer.json, as save_pretrained writes them)");
        }
        boolean hasSafetensors = visible.stream()
                .anyMatch(f -> f.path().equals(HfCheckpoint.WEIGHTS) || f.path().equals(HfCheckpoint.WEIGHTS_INDEX));
        Optional<SourceFile> pickle = visible.stream()
                .filter(f -> !f.path().contains("/") && UnsafeCheckpointException.isPickle(Path.of(f.path())))
                .findFirst();
        if (!hasSafetensors && pickle.isPresent()) {
            throw new UnsafeCheckpointException(
                    uri + (uri.endsWith("/") ? "" : "/") + pickle.get().path());
        }
        return visible.stream()
                .filter(f -> f.path().contains("/") || !UnsafeCheckpointException.isPickle(Path.of(f.path())))
                .toList();
    }

    static String key(String uri, List<SourceFile> files) {
        MessageDigest md = sha256();
        md.update(uri.getBytes(StandardCharsets.UTF_8));
        for (SourceFile f : files) {
            md.update(
                    ("\n" + f.path() + "\t" + f.size() + "\t" + f.modificationTime()).getBytes(StandardCharsets.UTF_8));
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    /** Temporary folders of copies killed mid-way; only called under the key's lock, so none is in use. */
    private void deleteLeftovers(String key) throws IOException {
        Files.createDirectories(root);
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root, "." + key + ".tmp-*")) {
            for (Path p : ds) deleteTree(p);
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
