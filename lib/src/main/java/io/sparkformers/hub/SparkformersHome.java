package io.sparkformers.hub;

import java.nio.file.Path;

/**
 * Where Sparkformers keeps what it makes once per machine (imported built-in models, caches):
 * {@code -Dsparkformers.home}, else {@code $SPARKFORMERS_HOME}, else {@code ~/.cache/sparkformers}.
 */
public final class SparkformersHome {
    private SparkformersHome() {}

    public static Path get() {
        String prop = System.getProperty("sparkformers.home");
        if (prop != null && !prop.isBlank()) return Path.of(prop);
        String env = System.getenv("SPARKFORMERS_HOME");
        if (env != null && !env.isBlank()) return Path.of(env);
        return Path.of(System.getProperty("user.home"), ".cache", "sparkformers");
    }

    /** Folder of the imported built-in models, one HF checkpoint folder per alias. */
    public static Path models() {
        return get().resolve("models");
    }
}
