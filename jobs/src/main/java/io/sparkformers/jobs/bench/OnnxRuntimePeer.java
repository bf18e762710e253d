package io.sparkformers.jobs.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * ONNX Runtime, the peer that {@code bench forward}, {@code inference} and {@code inference-spark} time our encoder
 * against. It is a benchmark dependency, not part of what runs: the shipped jobs jar leaves it out (jobs/pom.xml,
 * docs/spark-lines.md "Jar contents") and {@code bin/sparkformers bench} adds it from the local Maven repository, where
 * the build fetched it. {@link #require} turns its absence into one line that says how to add it, before any work.
 */
public final class OnnxRuntimePeer {
    private static final String PROBE = "ai.onnxruntime.OrtEnvironment";

    private OnnxRuntimePeer() {}

    /** Whether ONNX Runtime's Java API can be loaded by the class loader that loaded the benchmarks. */
    public static boolean present() {
        try {
            Class.forName(PROBE, false, OnnxRuntimePeer.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** Fails in one line naming the benchmark, the missing artifact and the two ways to add it, when it is absent. */
    public static void require(String benchmark) {
        if (present()) return;
        String jar = coordinates();
        throw new IllegalStateException("bench " + benchmark + " times ONNX Runtime as its peer, which the jobs jar "
                + "leaves out: run it through bin/sparkformers (it adds " + jar + " from the local Maven repository "
                + "that the build filled) or pass that jar to spark-submit with --jars");
    }

    /** {@code com.microsoft.onnxruntime:onnxruntime:<version>}, as the build wrote it. */
    static String coordinates() {
        try (InputStream in = OnnxRuntimePeer.class.getResourceAsStream("onnxruntime.properties")) {
            if (in == null) return "com.microsoft.onnxruntime:onnxruntime";
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("coordinates", "com.microsoft.onnxruntime:onnxruntime")
                    .trim();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
