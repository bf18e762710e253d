package io.sparkformers.hub;

import static org.junit.jupiter.api.Assertions.*;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hadoop FileSystem sources and the per-host executor cache. */
class ModelCacheTest {

    @TempDir
    Path tmp;

    private Path source(String name, float first, int floats) throws IOException {
        return Fixtures.write(tmp.resolve(name), Fixtures.model(first, floats));
    }

    private static float firstWeight(Path dir) throws IOException {
        try (var w = HfCheckpoint.open(dir).openWeights()) {
            return w.tensor("classifier.bias").toFloatArray()[0];
        }
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void fileUriIsCopiedOnceAndReused() throws IOException {
        Path src = source("model", 3f, 64);
        ModelCache cache = new ModelCache(tmp.resolve("cache"));
        int before = ModelCache.copiesMade();

        Path first = cache.copyOf(src.toUri().toString(), Map.of());
        Path again = cache.copyOf(src.toUri().toString(), Map.of());

        assertEquals(first, again);
        assertEquals(before + 1, ModelCache.copiesMade());
        assertTrue(first.startsWith(tmp.resolve("cache")));
        assertEquals(3f, firstWeight(first));
        assertTrue(Files.isRegularFile(first.resolve("1_Pooling/config.json")), "nested folders are copied");
        assertEquals(
                List.of(src.toUri().toString()),
                cache.entries().stream().map(ModelCache.Entry::source).toList());
    }

    @Test
    void modifiedSourceIsCopiedAgain() throws IOException {
        Path src = source("model", 3f, 64);
        ModelCache cache = new ModelCache(tmp.resolve("cache"));
        Path first = cache.copyOf(src.toUri().toString(), Map.of());
        int before = ModelCache.copiesMade();

        Files.write(src.resolve("model.safetensors"), Fixtures.safetensors(4f, 64));
        Path weights = src.resolve("model.safetensors");
        Files.setLastModifiedTime(
                weights, FileTime.fromMillis(Files.getLastModifiedTime(weights).toMillis() + 60_000));
        Path second = cache.copyOf(src.toUri().toString(), Map.of());

        assertNotEquals(first, second);
        assertEquals(before + 1, ModelCache.copiesMade());
        assertEquals(4f, firstWeight(second));
        assertEquals(3f, firstWeight(first), "the older copy is left for tasks still using it");
    }

    @Test
    void hdfsLikeSchemeIsReadThroughTheHadoopApi() throws IOException {
        Path src = source("model", 5f, 64);
        Files.writeString(src.resolve(".model.safetensors.crc"), "checksum");
        Files.writeString(src.resolve("_SUCCESS"), "");
        Files.write(src.resolve("pytorch_model.bin"), new byte[] {(byte) 0x80, 2});
        ModelCache cache = new ModelCache(tmp.resolve("cache"));
        String uri = HdfsLikeFileSystem.SCHEME + "://" + src.toAbsolutePath();
        Map<String, String> conf =
                Map.of("fs." + HdfsLikeFileSystem.SCHEME + ".impl", HdfsLikeFileSystem.class.getName());

        Path copy = cache.copyOf(uri, conf);

        assertEquals(5f, firstWeight(copy));
        List<String> copied = names(copy);
        assertFalse(
                copied.contains(".model.safetensors.crc")
                        || copied.contains("_SUCCESS")
                        || copied.contains("pytorch_model.bin"),
                "hidden files and pickles beside safetensors are skipped: " + copied);
    }

    @Test
    void resolverLoadsFileUrisThroughTheCache() throws IOException {
        Path src = source("model", 6f, 64);
        ModelResolver resolver = new ModelResolver(
                Map.of("HF_HOME", tmp.resolve("hf").toString()),
                Map.of(),
                new ModelCache(tmp.resolve("cache")),
                List.of());

        Path dir = resolver.resolve(src.toUri().toString());

        assertTrue(dir.startsWith(tmp.resolve("cache")));
        assertEquals(6f, firstWeight(dir));
    }

    @Test
    void badHadoopSourcesFailBeforeAnyCopy() throws IOException {
        ModelCache cache = new ModelCache(tmp.resolve("cache"));
        IOException missing = assertThrows(
                IOException.class,
                () -> cache.copyOf(tmp.resolve("nope").toUri().toString(), Map.of()));
        assertTrue(
                missing.getMessage().contains("nope") && missing.getMessage().contains("does not exist"),
                missing.getMessage());

        Path noConfig = source("no-config", 1f, 64);
        Files.delete(noConfig.resolve("config.json"));
        IOException e = assertThrows(
                IOException.class, () -> cache.copyOf(noConfig.toUri().toString(), Map.of()));
        assertTrue(
                e.getMessage().contains("no-config") && e.getMessage().contains("has no config.json"), e.getMessage());

        Path pickled = source("pickled", 1f, 64);
        Files.delete(pickled.resolve("model.safetensors"));
        Files.write(pickled.resolve("pytorch_model.bin"), new byte[] {(byte) 0x80, 2});
        UnsafeCheckpointException u = assertThrows(
                UnsafeCheckpointException.class,
                () -> cache.copyOf(pickled.toUri().toString(), Map.of()));
        assertTrue(
                u.getMessage().contains("pickled/pytorch_model.bin")
                        && u.getMessage().contains("safe_serialization=True"),
                u.getMessage());
        assertFalse(Files.exists(cache.root()) && !names(cache.root()).isEmpty(), "nothing copied");
    }

    @Test
    void threadsOfOneJvmShareOneCopy() throws Exception {
        Path src = source("model", 7f, 256 * 1024);
        ModelCache cache = new ModelCache(tmp.resolve("cache"));
        int before = ModelCache.copiesMade();
        List<Thread> threads = new ArrayList<>();
        List<Path> got = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < 4; i++) {
            threads.add(new Thread(() -> {
                try {
                    got.add(cache.copyOf(src.toUri().toString(), Map.of()));
                } catch (Throwable t) {
                    errors.add(t);
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) t.join();
        assertEquals(List.of(), errors);
        assertEquals(1, got.stream().distinct().count());
        assertEquals(before + 1, ModelCache.copiesMade());
    }

    @Test
    void twoJvmsRacingFillOneCompleteCopy() throws Exception {
        Path src = source("model", 8f, 2 * 1024 * 1024); // 8 MB of weights: the copies overlap in time
        Path root = tmp.resolve("cache");
        Path go = tmp.resolve("go");
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<Process> procs = new ArrayList<>();
        List<Path> outs = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Path out = tmp.resolve("jvm" + i + ".out");
            outs.add(out);
            procs.add(new ProcessBuilder(
                            javaBin,
                            "-Xmx256m",
                            "-cp",
                            System.getProperty("java.class.path"),
                            ModelCacheRace.class.getName(),
                            root.toString(),
                            src.toUri().toString(),
                            go.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(out.toFile())
                    .start());
        }
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!outs.stream().allMatch(o -> read(o).contains("ready")) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            Files.createFile(go);
            for (Process p : procs) assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM timed out");
        } finally {
            procs.forEach(Process::destroyForcibly);
        }
        int copies = 0;
        List<String> dirs = new ArrayList<>();
        for (Path o : outs) {
            String text = read(o);
            var m = java.util.regex.Pattern.compile("copies=(\\d+) dir=(.+)").matcher(text);
            assertTrue(m.find(), "child output: " + text);
            copies += Integer.parseInt(m.group(1));
            dirs.add(m.group(2).strip());
        }
        assertEquals(1, copies, "exactly one JVM copies:\n" + read(outs.get(0)) + read(outs.get(1)));
        assertEquals(dirs.get(0), dirs.get(1), "both JVMs use the same folder");
        Path dir = Path.of(dirs.get(0));
        for (String f : List.of(
                "config.json", "model.safetensors", "tokenizer.json", "1_Pooling" + File.separator + "config.json")) {
            assertEquals(Files.size(src.resolve(f)), Files.size(dir.resolve(f)), f);
        }
        assertEquals(8f, firstWeight(dir));
        assertTrue(names(root).stream().noneMatch(n -> n.contains(".tmp-")), "temp folders left: " + names(root));
    }

    private static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (IOException e) {
            return "";
        }
    }
}
