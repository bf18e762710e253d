package io.sparkformers.spark;

import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.ModelCache;
import io.sparkformers.hub.ModelRef;
import io.sparkformers.hub.ModelResolver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkEnv;

/**
 * Model references as the stages' {@code model} Param takes them, turned into a local checkpoint folder through
 * {@link ModelResolver}: a local folder (plain path or {@code file:} URI), a folder on any Hadoop file system (copied
 * once per host by {@link ModelCache}), a built-in alias or a Hub id. Unlike {@code ModelResolver.resolve}, a folder
 * holding only tokenizer files is accepted (the tokenizer stage saves those).
 *
 * <p>The driver resolves every reference before a job and hands executors what they can load without fetching
 * anything ({@link #forExecutors}): a Hadoop URI as it is, anything else as a folder the driver ships through Spark
 * ({@link ShippedModels}). An executor asked to resolve an alias or a Hub id itself refuses.
 */
public final class ModelRefs {
    private ModelRefs() {}

    private static volatile ModelResolver resolver;

    private static ModelResolver resolver() {
        if (resolver == null) resolver = ModelResolver.defaults();
        return resolver;
    }

    /** What a job needs of a model reference, checked on the driver before it starts. */
    enum Needs {
        /** weights and tokenizer */
        CHECKPOINT,
        /** tokenizer.json */
        TOKENIZER,
        /** the folder only (a from-scratch training's config.json, say): checked by the caller */
        FOLDER
    }

    /**
     * The reference executors load {@code ref} by, after resolving and checking it on the driver (an alias is imported,
     * a Hub id downloaded, here and only here): a Hadoop URI stays as it is (executors copy it once per host); under a
     * local master, where the tasks run in this JVM, the driver's folder; otherwise a reference to the folder shipped
     * through Spark ({@link ShippedModels}).
     */
    static ModelSource forExecutors(SparkContext sc, String ref, Needs needs) throws IOException {
        if (ref != null && !ref.isBlank() && resolver().parse(ref) instanceof ModelRef.HadoopUri u) {
            if (needs != Needs.FOLDER) ModelCache.checkSource(u.uri(), java.util.Map.of(), needs == Needs.TOKENIZER);
            return ModelSource.of(ref);
        }
        Path dir = localFolder(ref);
        checkFolder(ref, dir, needs);
        if (sc.isLocal()) return ModelSource.of(dir.toString());
        ShippedModels.Shipment s = ShippedModels.ship(sc, dir);
        return new ModelSource(s.ref(), s);
    }

    /** The local folder of a reference; errors name the reference and say what a reference may be. */
    public static Path localFolder(String ref) throws IOException {
        if (ref == null || ref.isBlank()) {
            throw new IllegalArgumentException("the model Param is not set: give a checkpoint folder, a Hadoop URI, a "
                    + "built-in alias (" + String.join(", ", resolver().aliasNames()) + ") or a Hub id");
        }
        if (ref.startsWith(ShippedModels.PREFIX)) return ShippedModels.localFolder(ref);
        ModelRef parsed = resolver().parse(ref);
        if (parsed instanceof ModelRef.LocalFolder l) {
            if (!Files.isDirectory(l.path()) || !Files.isReadable(l.path())) {
                throw new IOException(
                        "model '" + ref + "' is not a readable folder; give a Hugging Face checkpoint "
                                + "folder (config.json, model.safetensors, tokenizer.json), a Hadoop URI, an alias or a Hub id");
            }
            return l.path().toAbsolutePath();
        }
        if (parsed instanceof ModelRef.HadoopUri u) return ModelCache.localCopy(u.uri());
        String executor = executorId();
        if (executor != null) {
            throw new IOException("executor " + executor + " was asked to fetch model '" + ref + "' itself; executors "
                    + "load only folders, Hadoop URIs and models the driver shipped: pass the reference through the "
                    + "stage or Estimator, which resolves it on the driver");
        }
        return resolver().resolve(ref);
    }

    /** This JVM's Spark executor id, or null on a driver (local mode included) or outside Spark. */
    private static String executorId() {
        SparkEnv env = SparkEnv.get();
        return env == null || "driver".equals(env.executorId()) ? null : env.executorId(); // Spark's DRIVER_IDENTIFIER
    }

    /**
     * Checks on the driver, before any job, that a reference can be loaded: a checkpoint (or, with
     * {@code tokenizerOnly}, a folder holding tokenizer.json). Aliases and Hub ids are resolved (imported or fetched
     * once per host); Hadoop folders are only listed, not copied: the executors copy them, once per host.
     */
    public static void check(String ref, boolean tokenizerOnly) throws IOException {
        if (ref != null && !ref.isBlank() && resolver().parse(ref) instanceof ModelRef.HadoopUri u) {
            ModelCache.checkSource(u.uri(), java.util.Map.of(), tokenizerOnly);
            return;
        }
        checkFolder(ref, localFolder(ref), tokenizerOnly ? Needs.TOKENIZER : Needs.CHECKPOINT);
    }

    private static void checkFolder(String ref, Path dir, Needs needs) throws IOException {
        if (needs == Needs.CHECKPOINT) {
            HfCheckpoint.open(dir);
        } else if (needs == Needs.TOKENIZER && !Files.isRegularFile(dir.resolve(HfCheckpoint.TOKENIZER))) {
            throw new IOException("model '" + ref + "' has no tokenizer.json; the tokenizer needs the fast-tokenizer "
                    + "file (save it with tokenizer.save_pretrained)");
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (var walk = Files.walk(p)) {
            for (Path q : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }
}
