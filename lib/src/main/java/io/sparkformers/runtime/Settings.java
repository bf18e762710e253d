package io.sparkformers.runtime;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Process-wide switches: {@code -Dsparkformers.someName}, else the environment's {@code SPARKFORMERS_SOME_NAME}.
 * Executors need the second form: Spark refuses any {@code -Dspark…} in {@code spark.executor.extraJavaOptions}, which
 * {@code -Dsparkformers…} matches, so a cluster passes {@code spark.executorEnv.SPARKFORMERS_SOME_NAME} instead.
 */
public final class Settings {
    /** Property → environment name, derived once: some switches are read on every forward pass. */
    private static final Map<String, String> ENVIRONMENT_NAMES = new ConcurrentHashMap<>();

    private Settings() {}

    /** The value of {@code property} (a {@code sparkformers.…} name), or null when neither form is set or both are blank. */
    public static String get(String property) {
        String value = System.getProperty(property);
        if (value == null || value.isBlank())
            value = System.getenv(ENVIRONMENT_NAMES.computeIfAbsent(property, Settings::environmentName));
        return value == null || value.isBlank() ? null : value.trim();
    }

    /** False only when {@code property} is set to {@code false}: the switches that are on by default. */
    public static boolean enabled(String property) {
        return !"false".equals(get(property));
    }

    /** {@code sparkformers.sparseEmbeddingGradients} → {@code SPARKFORMERS_SPARSE_EMBEDDING_GRADIENTS}. */
    static String environmentName(String property) {
        return property.replaceAll("([a-z0-9])([A-Z])", "$1_$2")
                .replace('.', '_')
                .toUpperCase(Locale.ROOT);
    }
}
