package io.sparkformers.spark;

import io.sparkformers.convert.BuiltinModels;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.SparkformersHome;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.UUID;

/**
 * Model references as the stages' {@code model} Param takes them, turned into a local checkpoint folder on whichever
 * JVM asks: a built-in alias (imported once per machine), a local folder (plain path or {@code file:} URI), or a
 * folder on any Hadoop file system ({@code hdfs:}, {@code s3a:}, …) copied once per machine into
 * {@code <sparkformers home>/cache/spark-models/<hash>} (atomic rename, so concurrent JVMs never see half a copy).
 */
public final class ModelRefs {
    private ModelRefs() {}

    /** The local checkpoint folder of a reference; errors name the reference and say what a reference may be. */
    public static Path localFolder(String ref) throws IOException {
        if (ref == null || ref.isBlank()) {
            throw new IllegalArgumentException("the model Param is not set: give a checkpoint folder, a Hadoop URI or a "
                    + "built-in alias (" + String.join(", ", BuiltinModels.ALL.keySet()) + ")");
        }
        var builtin = BuiltinModels.find(ref);
        if (builtin.isPresent()) return BuiltinModels.resolve(builtin.get());
        URI uri = toUri(ref);
        if (uri.getScheme() == null || uri.getScheme().equals("file")) {
            Path dir = uri.getScheme() == null ? Path.of(ref) : Path.of(uri);
            if (!Files.isDirectory(dir)) {
                throw new IOException("model '" + ref + "' is not a readable folder nor a built-in alias ("
                        + String.join(", ", BuiltinModels.ALL.keySet()) + "); give a Hugging Face checkpoint folder "
                        + "(config.json, model.safetensors, tokenizer.json)");
            }
            return dir.toAbsolutePath();
        }
        return copyToLocal(uri);
    }

    /**
     * Checks on the driver, before any job, that a reference can be loaded: an alias is known, a local folder is a
     * checkpoint (or, with {@code tokenizerOnly}, holds tokenizer.json), a Hadoop folder holds config.json.
     */
    public static void check(String ref, boolean tokenizerOnly) throws IOException {
        if (ref == null || ref.isBlank()) localFolder(ref);
        if (BuiltinModels.find(ref).isPresent()) return;
        URI uri = toUri(ref);
        if (uri.getScheme() == null || uri.getScheme().equals("file")) {
            Path dir = localFolder(ref);
            if (tokenizerOnly) {
                if (!Files.isRegularFile(dir.resolve(HfCheckpoint.TOKENIZER))) {
                    throw new IOException("model '" + ref + "' has no tokenizer.json; the tokenizer needs the "
                            + "fast-tokenizer file (save it with tokenizer.save_pretrained)");
                }
            } else {
                HfCheckpoint.open(dir);
            }
            return;
        }
        org.apache.hadoop.fs.Path config = new org.apache.hadoop.fs.Path(new org.apache.hadoop.fs.Path(uri),
                tokenizerOnly ? HfCheckpoint.TOKENIZER : HfCheckpoint.CONFIG);
        if (!config.getFileSystem(new Configuration()).exists(config)) {
            throw new IOException("model '" + ref + "' has no " + config.getName() + ": not a Hugging Face checkpoint folder");
        }
    }

    /** A URI when the reference has a scheme (two letters or more, so Windows drives stay paths), else a plain path. */
    private static URI toUri(String ref) {
        if (!ref.matches("^[A-Za-z][A-Za-z0-9+.-]+:.*")) return URI.create("");
        try {
            return new URI(ref);
        } catch (Exception e) {
            throw new IllegalArgumentException("model '" + ref + "' is not a valid URI: " + e.getMessage(), e);
        }
    }

    private static Path copyToLocal(URI uri) throws IOException {
        Path cache = SparkformersHome.get().resolve("cache").resolve("spark-models");
        Path dir = cache.resolve(sha256(uri.toString()).substring(0, 24));
        if (Files.isRegularFile(dir.resolve("config.json"))) return dir;
        Files.createDirectories(cache);
        org.apache.hadoop.fs.Path src = new org.apache.hadoop.fs.Path(uri);
        FileSystem fs = src.getFileSystem(new Configuration());
        if (!fs.exists(src) || !fs.getFileStatus(src).isDirectory()) {
            throw new IOException("model '" + uri + "' is not a folder on its file system; give a checkpoint folder");
        }
        Path tmp = cache.resolve(".tmp-" + UUID.randomUUID());
        try {
            Files.createDirectories(tmp);
            for (FileStatus f : fs.listStatus(src)) {
                fs.copyToLocalFile(false, f.getPath(), new org.apache.hadoop.fs.Path(tmp.resolve(f.getPath().getName()).toUri()), true);
            }
            try {
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException raced) {
                if (!Files.isRegularFile(dir.resolve("config.json"))) throw raced;   // another JVM finished first
            }
        } finally {
            if (Files.exists(tmp)) deleteTree(tmp);
        }
        return dir;
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (var walk = Files.walk(p)) {
            for (Path q : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
