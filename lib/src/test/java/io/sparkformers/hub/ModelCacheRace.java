package io.sparkformers.hub;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Child-JVM side of {@link ModelCacheTest#twoJvmsRacingFillOneCompleteCopy}: prints "ready", waits for the go file
 * so both JVMs ask at the same moment, asks the cache for the source, prints when it asked and got the folder
 * (ms since the epoch), its copy count and the folder.
 * Arguments: cache root, source URI, go file.
 */
public final class ModelCacheRace {
    public static void main(String[] args) throws Exception {
        ModelCache cache = new ModelCache(Path.of(args[0]));
        Path go = Path.of(args[2]);
        System.out.println("ready");
        System.out.flush();
        long deadline = System.currentTimeMillis() + 60_000;
        while (!Files.exists(go) && System.currentTimeMillis() < deadline) Thread.onSpinWait();
        long start = System.currentTimeMillis();
        Path dir = cache.copyOf(args[1], Map.of());
        long end = System.currentTimeMillis();
        System.out.println("asked=" + start + " got=" + end);
        System.out.println("copies=" + ModelCache.copiesMade() + " dir=" + dir);
    }
}
