package io.sparkformers.spark;

import io.sparkformers.safetensors.SafetensorsFile;
import io.sparkformers.train.CheckpointManager;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SaveMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Output folders on any Hadoop file system: a scoring job's output ({@link #checkScoringOutput}) and a training
 * output_dir.
 *
 * <p>A training output_dir on any Hadoop file system, as Spark resolves save paths (a path without a scheme is on
 * {@code fs.defaultFS}). On the local file system the Trainer writes it directly; elsewhere rank 0 writes a local
 * staging folder and this class copies each checkpoint up under a temporary name and renames it, so a
 * {@code checkpoint-<step>} folder is complete whenever it is visible; final files likewise.
 */
final class OutputStore {
    private static final Logger LOG = LoggerFactory.getLogger(OutputStore.class);
    private static final Pattern CHECKPOINT = Pattern.compile("^" + CheckpointManager.PREFIX + "-(\\d+)$");

    /** What Spark's file commit protocol writes into an output folder last, once every part file is in place. */
    static final String SUCCESS_MARKER = "_SUCCESS";

    private final String dir;
    private final Path root;
    private final FileSystem fs;

    OutputStore(String dir) throws IOException {
        this.dir = dir;
        this.root = new Path(dir);
        this.fs = root.getFileSystem(new Configuration());
    }

    /** Whether the folder is on this machine's file system (the Trainer then writes it in place). */
    boolean isLocal() {
        return fs instanceof LocalFileSystem || "file".equals(fs.getUri().getScheme());
    }

    /** The local folder of a local store. */
    java.nio.file.Path localPath() {
        URI u = fs.makeQualified(root).toUri();
        return java.nio.file.Path.of(u);
    }

    String uri() {
        return fs.makeQualified(root).toString();
    }

    boolean existsNonEmpty() throws IOException {
        return fs.exists(root) && fs.getFileStatus(root).isDirectory() && fs.listStatus(root).length > 0;
    }

    /**
     * The newest checkpoint a resume can load ({@code tmp-checkpoint-*} folders are ignored): damaged newer ones are
     * skipped with a warning naming them and why. On the local file system that is
     * {@link CheckpointManager#latestUsableCheckpoint}; elsewhere {@link #latestUsableThroughFileSystem} applies the
     * same check through the Hadoop file system.
     */
    Optional<String> latestCheckpoint() throws IOException {
        if (isLocal()) {
            return CheckpointManager.latestUsableCheckpoint(localPath())
                    .map(p -> p.getFileName().toString());
        }
        return latestUsableThroughFileSystem(w -> LOG.warn(w));
    }

    /**
     * {@link CheckpointManager#defect}, the one usable-checkpoint check, for checkpoints on any Hadoop file system,
     * newest first. Each candidate is mirrored into a local skeleton holding what the check reads — its JSON files
     * whole (trainer_state.json, config.json, a weights index) and of each {@code .safetensors} file the length
     * prefix and header, in a sparse file of the remote length (so a truncated upload still fails the size check) —
     * without fetching tensor data.
     */
    Optional<String> latestUsableThroughFileSystem(Consumer<String> warn) throws IOException {
        if (!fs.exists(root)) return Optional.empty();
        List<FileStatus> candidates = new ArrayList<>();
        for (FileStatus s : fs.listStatus(root)) {
            if (s.isDirectory() && CHECKPOINT.matcher(s.getPath().getName()).matches()) candidates.add(s);
        }
        candidates.sort(
                Comparator.comparingLong((FileStatus s) -> step(s.getPath().getName()))
                        .reversed());
        for (FileStatus c : candidates) {
            java.nio.file.Path skeleton = Files.createTempDirectory("sparkformers-checkpoint-check");
            try {
                mirrorForCheck(c.getPath(), skeleton);
                Optional<String> defect = CheckpointManager.defect(skeleton);
                if (defect.isEmpty()) return Optional.of(c.getPath().getName());
                warn.accept("skipping checkpoint " + c.getPath() + " ("
                        + defect.get().replace(skeleton.toString(), c.getPath().toString())
                        + "); trying the one before it");
            } finally {
                deleteRecursively(skeleton);
            }
        }
        return Optional.empty();
    }

    private static long step(String name) {
        Matcher m = CHECKPOINT.matcher(name);
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    /** The files {@link CheckpointManager#defect} reads, as they are remotely, minus tensor data. */
    private void mirrorForCheck(Path remote, java.nio.file.Path local) throws IOException {
        for (FileStatus f : fs.listStatus(remote)) {
            if (!f.isFile()) continue;
            String name = f.getPath().getName();
            java.nio.file.Path target = local.resolve(name);
            long len = f.getLen();
            if (name.endsWith(".json")) {
                // a checkpoint's JSON files are small; an index is capped like a header (SafetensorsCheckpoint)
                copyPrefix(f.getPath(), target, Math.min(len, SafetensorsFile.MAX_HEADER_BYTES + 1), len);
            } else if (name.endsWith(".safetensors")) {
                long prefix = Math.min(len, 8);
                if (len >= 8) {
                    try (FSDataInputStream in = fs.open(f.getPath())) {
                        byte[] b = new byte[8];
                        in.readFully(0, b);
                        long headerLen = ByteBuffer.wrap(b)
                                .order(ByteOrder.LITTLE_ENDIAN)
                                .getLong();
                        if (Long.compareUnsigned(headerLen, SafetensorsFile.MAX_HEADER_BYTES) <= 0) {
                            prefix = Math.min(len, 8 + headerLen);
                        }
                    }
                }
                copyPrefix(f.getPath(), target, prefix, len);
            }
        }
    }

    /** Copies the first {@code prefix} bytes of {@code remote} into {@code target}, then extends it to {@code length}. */
    private void copyPrefix(Path remote, java.nio.file.Path target, long prefix, long length) throws IOException {
        byte[] b = new byte[(int) prefix];
        try (FSDataInputStream in = fs.open(remote)) {
            in.readFully(0, b);
        }
        try (RandomAccessFile f = new RandomAccessFile(target.toFile(), "rw")) {
            f.write(b);
            f.setLength(length); // sparse: the tensor data is never fetched nor stored
        }
    }

    private static void deleteRecursively(java.nio.file.Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (java.nio.file.Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    /** Copies {@code local} to {@code <dir>/<name>} through {@code <dir>/tmp-<name>} and a rename. */
    void upload(java.nio.file.Path local, String name) throws IOException {
        fs.mkdirs(root);
        Path tmp = new Path(root, "tmp-" + name);
        Path target = new Path(root, name);
        if (fs.exists(tmp)) fs.delete(tmp, true);
        FileSystem localFs = FileSystem.getLocal(new Configuration());
        FileUtil.copy(localFs, new Path(local.toUri()), fs, tmp, false, fs.getConf());
        if (fs.exists(target)) fs.delete(target, true);
        if (!fs.rename(tmp, target)) throw new IOException("cannot rename " + tmp + " to " + target);
    }

    /** Deletes the {@code checkpoint-*} folders not named in {@code keep} (rotation done on the staging folder). */
    List<String> deleteCheckpointsExcept(List<String> keep) throws IOException {
        List<String> deleted = new ArrayList<>();
        if (!fs.exists(root)) return deleted;
        for (FileStatus s : fs.listStatus(root)) {
            String n = s.getPath().getName();
            if (s.isDirectory() && CHECKPOINT.matcher(n).matches() && !keep.contains(n)) {
                fs.delete(s.getPath(), true);
                deleted.add(n);
            }
        }
        return deleted;
    }

    /** Copies {@code <dir>/<name>} into the local folder {@code target} (which must not exist). */
    void download(String name, java.nio.file.Path target) throws IOException {
        FileSystem localFs = FileSystem.getLocal(new Configuration());
        FileUtil.copy(fs, new Path(root, name), localFs, new Path(target.toUri()), false, fs.getConf());
    }

    /**
     * Refuses a scoring output folder that {@code mode} must not write to: an existing one under errorifexists, and an
     * incomplete one (entries but no {@value #SUCCESS_MARKER}: the job writing it stopped before its commit, killed or
     * failed) under append as well, as adding to it would mix a partial result into the next. overwrite replaces
     * either.
     *
     * @param given the output as the user wrote it, for the message
     */
    static void checkScoringOutput(FileSystem fs, Path out, String given, SaveMode mode) throws IOException {
        if (mode == SaveMode.Overwrite || !fs.exists(out)) return;
        if (fs.getFileStatus(out).isDirectory()
                && fs.listStatus(out).length > 0
                && !fs.exists(new Path(out, SUCCESS_MARKER))) {
            throw new IOException("output '" + given + "' is incomplete (no " + SUCCESS_MARKER + ": the job writing it "
                    + "stopped before committing, e.g. killed); pass --mode overwrite to replace it");
        }
        if (mode == SaveMode.ErrorIfExists) {
            throw new IOException("output '" + given + "' already exists; pass --mode overwrite to replace it or "
                    + "--mode append to add to it");
        }
    }

    @Override
    public String toString() {
        return dir;
    }
}
