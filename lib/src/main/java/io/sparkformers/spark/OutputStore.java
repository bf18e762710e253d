package io.sparkformers.spark;

import io.sparkformers.train.CheckpointManager;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SaveMode;

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
     * The complete checkpoint with the largest step ({@code tmp-checkpoint-*} folders are ignored). On the local file
     * system it is the newest one a resume can load: damaged newer ones are skipped with a warning naming them
     * ({@link CheckpointManager#latestUsableCheckpoint}); elsewhere the newest with a trainer_state.json, as uploads
     * are renamed into place whole.
     */
    Optional<String> latestCheckpoint() throws IOException {
        if (isLocal()) {
            return CheckpointManager.latestUsableCheckpoint(localPath())
                    .map(p -> p.getFileName().toString());
        }
        if (!fs.exists(root)) return Optional.empty();
        long best = -1;
        String name = null;
        for (FileStatus s : fs.listStatus(root)) {
            Matcher m = CHECKPOINT.matcher(s.getPath().getName());
            if (s.isDirectory()
                    && m.matches()
                    && Long.parseLong(m.group(1)) > best
                    && fs.exists(new Path(s.getPath(), CheckpointManager.TRAINER_STATE_NAME))) {
                best = Long.parseLong(m.group(1));
                name = s.getPath().getName();
            }
        }
        return Optional.ofNullable(name);
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
