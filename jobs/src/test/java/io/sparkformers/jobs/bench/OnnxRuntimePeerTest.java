package io.sparkformers.jobs.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * ONNX Runtime is provided, not shipped: the tests have it, the jobs jar does not. Where it is absent the benchmarks
 * that need it stop in one line naming the artifact the build compiled against and how to add it.
 */
class OnnxRuntimePeerTest {

    @Test
    void theNamedArtifactIsTheOneOnTheTestClassPath() throws Exception {
        assertTrue(OnnxRuntimePeer.present());
        Path ortJar = Path.of(Class.forName("ai.onnxruntime.OrtEnvironment")
                .getProtectionDomain()
                .getCodeSource()
                .getLocation()
                .toURI());
        String coordinates = OnnxRuntimePeer.coordinates();
        String version = coordinates.substring(coordinates.lastIndexOf(':') + 1);
        assertEquals("com.microsoft.onnxruntime:onnxruntime:" + version, coordinates);
        assertEquals("onnxruntime-" + version + ".jar", ortJar.getFileName().toString());
    }

    @Test
    void withoutOnnxRuntimeTheBenchSaysInOneLineHowToAddIt() throws Exception {
        // the jobs classes alone, as in the shipped jar: no ONNX Runtime reachable from this loader
        URL jobsClasses =
                OnnxRuntimePeer.class.getProtectionDomain().getCodeSource().getLocation();
        try (URLClassLoader shipped =
                new URLClassLoader(new URL[] {jobsClasses}, ClassLoader.getPlatformClassLoader())) {
            Class<?> peer = Class.forName(OnnxRuntimePeer.class.getName(), true, shipped);
            assertFalse((Boolean) peer.getMethod("present").invoke(null));
            InvocationTargetException e = org.junit.jupiter.api.Assertions.assertThrows(
                    InvocationTargetException.class,
                    () -> peer.getMethod("require", String.class).invoke(null, "forward"));
            String line = e.getCause().getMessage();
            assertTrue(
                    e.getCause() instanceof IllegalStateException, e.getCause().toString());
            assertFalse(line.contains("\n"), line);
            assertTrue(line.startsWith("bench forward times ONNX Runtime as its peer"), line);
            assertTrue(line.contains(OnnxRuntimePeer.coordinates()) && line.contains("bin/sparkformers"), line);
            assertTrue(line.contains("--jars"), line);
        }
    }
}
