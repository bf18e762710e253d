package io.sparkformers;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** Facts about the library itself. */
public final class Sparkformers {
    private static final String VERSION = readVersion();

    private Sparkformers() {}

    /** The library's version as the build wrote it ({@code version.properties}, filtered from the POM). */
    public static String version() {
        return VERSION;
    }

    private static String readVersion() {
        try (InputStream in = Sparkformers.class.getResourceAsStream("version.properties")) {
            if (in == null)
                throw new IllegalStateException("io/sparkformers/version.properties is missing from the "
                        + "class path: build the library with Maven");
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("version");
            if (v == null || v.isBlank() || v.contains("${")) {
                throw new IllegalStateException(
                        "io/sparkformers/version.properties was not filtered by the build: " + v);
            }
            return v.trim();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
