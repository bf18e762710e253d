package io.sparkformers.spark;

import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.ModelCache;
import io.sparkformers.hub.ModelRef;
import io.sparkformers.hub.ModelResolver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Model references as the stages' {@code model} Param takes them, turned into a local checkpoint folder on whichever
 * JVM asks, through {@link ModelResolver}: a local folder (plain path or {@code file:} URI), a folder on any Hadoop
 * file system (copied once per host by {@link ModelCache}), a built-in alias or a Hub id. Unlike
 * {@code ModelResolver.resolve}, a folder holding only tokenizer files is accepted (the tokenizer stage saves those).
 */
public final class ModelRefs {
    private ModelRefs() {}

    private static volatile ModelResolver resolver;

    private static ModelResolver resolver() {
        if (resolver == null) resolver = ModelResolver.defaults();
        return resolver;
    }

    /** The local folder of a reference; errors name the reference and say what a reference may be. */
    public static Path localFolder(String ref) throws IOException {
        if (ref == null || ref.isBlank()) {
            throw new IllegalArgumentException("the model Param is not set: give a checkpoint folder, a Hadoop URI, a "
                    + "built-in alias (" + String.join(", ", resolver().aliasNames()) + ") or a Hub id");
        }
        ModelRef parsed = resolver().parse(ref);
        if (parsed instanceof ModelRef.LocalFolder l) {
            if (!Files.isDirectory(l.path()) || !Files.isReadable(l.path())) {
                throw new IOException("model '" + ref + "' is not a readable folder; give a Hugging Face checkpoint "
                        + "folder (config.json, model.safetensors, tokenizer.json), a Hadoop URI, an alias or a Hub id");
            }
            return l.path().toAbsolutePath();
        }
        if (parsed instanceof ModelRef.HadoopUri u) return ModelCache.localCopy(u.uri());
        return resolver().resolve(ref);
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
        Path dir = localFolder(ref);
        if (!tokenizerOnly) {
            HfCheckpoint.open(dir);
        } else if (!Files.isRegularFile(dir.resolve(HfCheckpoint.TOKENIZER))) {
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
