package io.sparkformers.hub;

import io.sparkformers.runtime.Settings;
import java.nio.file.Path;

/**
 * Where Sparkformers keeps what it makes once per machine (imported built-in models, caches):
 * {@code -Dsparkformers.home}, else {@code $SPARKFORMERS_HOME}, else {@code ~/.cache/sparkformers}.
 */
public final class SparkformersHome {
    private SparkformersHome() {}

    public static Path get() {
        String home = Settings.get("sparkformers.home");
        if (home != null) return Path.of(home);
        return Path.of(System.getProperty("user.home"), ".cache", "sparkformers");
    }

    /** Folder of the imported built-in models, one HF checkpoint folder per alias. */
    public static Path models() {
        return get().resolve("models");
    }
}
