package io.sparkformers.train;

import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.Json;
import io.sparkformers.safetensors.SafetensorsCheckpoint;
import io.sparkformers.safetensors.SafetensorsFile;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code checkpoint-<step>} folders under output_dir, after HF Trainer's {@code _save_checkpoint},
 * {@code _sorted_checkpoints}, {@code _rotate_checkpoints} and {@code trainer_utils.get_last_checkpoint}.
 *
 * <p>A checkpoint is written by a caller-supplied {@link CheckpointWriter} into {@code tmp-checkpoint-<step>} and
 * renamed into place with one atomic move, so a crash or a failing writer never leaves a half-written
 * {@code checkpoint-<step>} for a resume to pick up. What goes inside (model.safetensors, config.json,
 * optimizer.safetensors, scheduler.json, trainer_state.json, rng_state.json) is the writer's business; the file
 * names below are the ones the Trainer uses.
 *
 * <p>A resume takes the newest checkpoint it can load ({@link #latestUsableCheckpoint}): one damaged after the rename
 * (a disk that lost its tail, a hand edit) is skipped with a warning naming it and what is wrong.
 */
public final class CheckpointManager {
    private static final System.Logger LOG = System.getLogger(CheckpointManager.class.getName());

    public static final String PREFIX = "checkpoint";
    public static final String TEMP_PREFIX = "tmp-checkpoint-";
    public static final String TRAINER_STATE_NAME = "trainer_state.json";
    /** HF writes {@code optimizer.pt} (pickle); we write the same state as safetensors. */
    public static final String OPTIMIZER_NAME = "optimizer.safetensors";
    /** HF writes {@code scheduler.pt}; see {@link SchedulerState}. */
    public static final String SCHEDULER_NAME = "scheduler.json";
    /** HF writes {@code rng_state.pth}; see {@link RngState}. */
    public static final String RNG_STATE_NAME = "rng_state.json";
    /** HF writes {@code training_args.bin} (pickle); we write {@link TrainingArguments#toJson()}. */
    public static final String TRAINING_ARGS_NAME = "training_args.json";

    /** HF {@code _sorted_checkpoints}' {@code re.match(".*checkpoint-([0-9]+)", path)} on a folder name. */
    private static final Pattern SORT_PATTERN = Pattern.compile(".*" + PREFIX + "-([0-9]+)");
    /** HF {@code get_last_checkpoint}'s {@code ^checkpoint-(\d+)$}. */
    private static final Pattern LAST_PATTERN = Pattern.compile("^" + PREFIX + "-(\\d+)$");

    /** Fills a checkpoint folder; the folder exists and is empty when called. */
    @FunctionalInterface
    public interface CheckpointWriter {
        void write(Path dir) throws IOException;
    }

    private final Path outputDir;

    public CheckpointManager(Path outputDir) {
        this.outputDir = outputDir;
    }

    public Path outputDir() {
        return outputDir;
    }

    /** {@code checkpoint-<step>}. */
    public static String folderName(long step) {
        return PREFIX + "-" + step;
    }

    public Path checkpointDir(long step) {
        return outputDir.resolve(folderName(step));
    }

    /**
     * Writes checkpoint {@code step}: {@code writer} fills {@code tmp-checkpoint-<step>}, which is then renamed to
     * {@code checkpoint-<step>} atomically. If the writer throws, the temporary folder is removed and no
     * {@code checkpoint-<step>} appears. An existing {@code checkpoint-<step>} (a resumed run reaching the same step)
     * is replaced, as HF overwrites it.
     */
    public Path save(long step, CheckpointWriter writer) throws IOException {
        Files.createDirectories(outputDir);
        Path tmp = outputDir.resolve(TEMP_PREFIX + step);
        if (Files.exists(tmp)) deleteRecursively(tmp);
        Files.createDirectory(tmp);
        try {
            writer.write(tmp);
        } catch (IOException | RuntimeException | Error e) {
            deleteRecursively(tmp);
            throw e;
        }
        Path target = checkpointDir(step);
        if (Files.exists(target)) deleteRecursively(target);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        return target;
    }

    /** Removes {@code tmp-checkpoint-*} folders a crashed run left behind. Returns what it removed. */
    public List<Path> removeIncomplete() throws IOException {
        List<Path> removed = new ArrayList<>();
        if (!Files.isDirectory(outputDir)) return removed;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(outputDir, TEMP_PREFIX + "*")) {
            for (Path p : ds) {
                if (Files.isDirectory(p)) {
                    deleteRecursively(p);
                    removed.add(p);
                }
            }
        }
        return removed;
    }

    /** Checkpoint folders sorted by step (HF {@code _sorted_checkpoints} without the best-model move). */
    public List<Path> checkpoints() throws IOException {
        return sortedCheckpoints(null);
    }

    /**
     * HF {@code _sorted_checkpoints}: {@code checkpoint-*} folders by step; if {@code bestModelCheckpoint} is among
     * them, it is moved up to the second-to-last place by adjacent swaps, so rotation deletes older ones first and
     * the newest stays last. Paths are compared after normalisation (HF compares strings).
     */
    public List<Path> sortedCheckpoints(String bestModelCheckpoint) throws IOException {
        List<Path> sorted = new ArrayList<>();
        if (!Files.isDirectory(outputDir)) return sorted;
        List<Object[]> withStep = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(outputDir, PREFIX + "-*")) {
            for (Path p : ds) {
                if (!Files.isDirectory(p)) continue;
                Matcher m = SORT_PATTERN.matcher(p.getFileName().toString());
                if (m.lookingAt()) withStep.add(new Object[] {Long.parseLong(m.group(1)), p});
            }
        }
        withStep.sort(Comparator.<Object[], Long>comparing(o -> (Long) o[0]).thenComparing(o -> o[1].toString()));
        for (Object[] o : withStep) sorted.add((Path) o[1]);
        if (bestModelCheckpoint != null) {
            Path best = normal(Path.of(bestModelCheckpoint));
            int index = -1;
            for (int i = 0; i < sorted.size(); i++) {
                if (normal(sorted.get(i)).equals(best)) index = i;
            }
            if (index >= 0) {
                for (int i = index; i < sorted.size() - 2; i++) {
                    Path t = sorted.get(i);
                    sorted.set(i, sorted.get(i + 1));
                    sorted.set(i + 1, t);
                }
            }
        }
        return sorted;
    }

    /**
     * HF {@code _rotate_checkpoints}: with save_total_limit set (> 0), deletes the oldest checkpoints beyond it, the
     * best one excepted (see {@link #sortedCheckpoints}); with a limit of 1 and a best checkpoint that is not the
     * newest, keeps 2 so both survive. Returns the folders deleted.
     */
    public List<Path> rotate(Integer saveTotalLimit, String bestModelCheckpoint) throws IOException {
        List<Path> deleted = new ArrayList<>();
        if (saveTotalLimit == null || saveTotalLimit <= 0) return deleted;
        List<Path> sorted = sortedCheckpoints(bestModelCheckpoint);
        if (sorted.size() <= saveTotalLimit) return deleted;
        int limit = saveTotalLimit;
        if (bestModelCheckpoint != null
                && limit == 1
                && !normal(sorted.get(sorted.size() - 1)).equals(normal(Path.of(bestModelCheckpoint)))) {
            limit = 2;
        }
        int toDelete = Math.max(0, sorted.size() - limit);
        for (Path p : sorted.subList(0, toDelete)) {
            deleteRecursively(p);
            deleted.add(p);
        }
        return deleted;
    }

    /** HF {@code get_last_checkpoint}: the {@code checkpoint-<n>} folder with the largest n, if any. */
    public static Optional<Path> latestCheckpoint(Path outputDir) throws IOException {
        List<Path> all = newestFirst(outputDir);
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(0));
    }

    /**
     * The newest {@code checkpoint-<n>} folder a resume can load: newer ones that {@link #defect} rejects are skipped,
     * each with a warning naming it and the problem.
     */
    public static Optional<Path> latestUsableCheckpoint(Path outputDir) throws IOException {
        return latestUsableCheckpoint(outputDir, w -> LOG.log(System.Logger.Level.WARNING, w));
    }

    /** {@link #latestUsableCheckpoint(Path)} with the warnings given to {@code warn}. */
    static Optional<Path> latestUsableCheckpoint(Path outputDir, Consumer<String> warn) throws IOException {
        for (Path p : newestFirst(outputDir)) {
            Optional<String> defect = defect(p);
            if (defect.isEmpty()) return Optional.of(p);
            warn.accept("skipping checkpoint " + p + " (" + defect.get() + "); trying the one before it");
        }
        return Optional.empty();
    }

    /**
     * Why a resume could not load {@code checkpoint}, or empty when it can: trainer_state.json and config.json parse,
     * and the weights and optimizer.safetensors are whole (each safetensors header parses and its tensors fill the
     * file exactly, so a truncated file fails). Reads headers only, never tensor data.
     */
    public static Optional<String> defect(Path checkpoint) {
        for (String required : List.of(TRAINER_STATE_NAME, HfCheckpoint.CONFIG, OPTIMIZER_NAME)) {
            if (!Files.isRegularFile(checkpoint.resolve(required))) return Optional.of("no " + required);
        }
        try {
            TrainerState.load(checkpoint.resolve(TRAINER_STATE_NAME));
            Json.MAPPER.readTree(checkpoint.resolve(HfCheckpoint.CONFIG).toFile());
            try (SafetensorsCheckpoint weights = SafetensorsCheckpoint.open(checkpoint);
                    SafetensorsFile optimizer = SafetensorsFile.open(checkpoint.resolve(OPTIMIZER_NAME))) {
                return Optional.empty();
            }
        } catch (IOException | RuntimeException e) {
            return Optional.of(e.getMessage());
        }
    }

    /** The {@code checkpoint-<n>} folders (HF {@code get_last_checkpoint}'s pattern), largest n first. */
    private static List<Path> newestFirst(Path outputDir) throws IOException {
        List<Path> found = new ArrayList<>();
        if (!Files.isDirectory(outputDir)) return found;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(outputDir)) {
            for (Path p : ds) {
                if (LAST_PATTERN.matcher(p.getFileName().toString()).matches() && Files.isDirectory(p)) found.add(p);
            }
        }
        found.sort(Comparator.comparingLong(CheckpointManager::lastStep).reversed());
        return found;
    }

    private static long lastStep(Path checkpoint) {
        Matcher m = LAST_PATTERN.matcher(checkpoint.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    /**
     * The checkpoint resume_from_checkpoint names: empty when unset, the newest loadable one for "true" (an error when
     * there is none; damaged newer ones are skipped with a warning), else the given folder, which must exist and be
     * loadable.
     */
    public static Optional<Path> resolveResume(TrainingArguments args) throws IOException {
        String r = args.resumeFromCheckpoint();
        if (r == null || r.equalsIgnoreCase("false")) return Optional.empty();
        if (args.resumeFromLatest()) {
            List<String> skipped = new ArrayList<>();
            Optional<Path> latest = latestUsableCheckpoint(Path.of(args.outputDir()), w -> {
                skipped.add(w);
                LOG.log(System.Logger.Level.WARNING, w);
            });
            if (latest.isEmpty() && skipped.isEmpty()) {
                throw new IllegalArgumentException("resume_from_checkpoint=true but output_dir " + args.outputDir()
                        + " holds no checkpoint-<step> folder: unset resume_from_checkpoint to start fresh");
            }
            if (latest.isEmpty()) {
                throw new IllegalArgumentException("resume_from_checkpoint=true but no checkpoint-<step> folder in "
                        + "output_dir " + args.outputDir() + " can be loaded (" + String.join("; ", skipped)
                        + "): unset resume_from_checkpoint to start fresh");
            }
            return latest;
        }
        Path p = Path.of(r);
        if (!Files.isDirectory(p)) {
            throw new IllegalArgumentException("resume_from_checkpoint " + r + " is not a folder: name an existing "
                    + "checkpoint-<step> folder or use true for the latest");
        }
        Optional<String> defect = defect(p);
        if (defect.isPresent()) {
            throw new IllegalArgumentException("resume_from_checkpoint " + r + " cannot be loaded (" + defect.get()
                    + "): name an earlier checkpoint-<step> folder or use true for the newest loadable one");
        }
        return Optional.of(p);
    }

    private static Path normal(Path p) {
        return p.toAbsolutePath().normalize();
    }

    static void deleteRecursively(Path root) throws IOException {
        if (!Files.exists(root)) return;
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                if (exc != null) throw exc;
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
