package io.sparkformers.spark;

import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.ModelCache;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * Model folders that exist only on the driver (an imported alias, a Hub download, a folder in the driver's home),
 * shipped to the executors through Spark. The driver splits the model's files ({@link HfCheckpoint#modelFiles}) into
 * pieces of at most 32 MiB and broadcasts each; a task that needs the model and finds no copy in its host's
 * {@link ModelCache} reads the pieces (Spark fetches a broadcast lazily, from the driver or from executors that have it)
 * and writes the folder into the cache under the model's content key, so every executor JVM and later application on
 * the host loads that one copy and fetches nothing. Executors never resolve aliases or Hub ids themselves: clusters'
 * executors usually have neither Maven nor internet.
 *
 * <p>Why broadcasts and not {@code SparkContext.addArchive}: Spark 4 isolates the files of each SparkSession, and
 * archives added to the context do not reach the executors of DataFrame jobs; broadcasts reach every job, are
 * fetched only on a cache miss, and travel over the block manager port every cluster already opens. Models too large
 * for the driver's storage memory (several GB) belong on a Hadoop file system, which executors read directly.
 */
final class ShippedModels {
    static final String PREFIX = "shipped:";
    private static final int PIECE = 32 << 20;

    /** The broadcast pieces of one shipped folder: what tasks carry, a few hundred bytes of handles. */
    static final class Shipment implements Serializable {
        private static final long serialVersionUID = 1L;
        final String key;
        final LinkedHashMap<String, Long> sizes;
        final ArrayList<Broadcast<byte[]>> pieces; // file after file, each cut into PIECE-byte pieces

        Shipment(String key, LinkedHashMap<String, Long> sizes, ArrayList<Broadcast<byte[]>> pieces) {
            this.key = key;
            this.sizes = sizes;
            this.pieces = pieces;
        }

        String ref() {
            return PREFIX + key;
        }
    }

    /** Driver: shipments by application and content key, so a model used by several stages is broadcast once. */
    private static final Map<String, Shipment> SHIPPED = new ConcurrentHashMap<>();
    /** Driver: content keys by folder and its files' names, sizes and modification times, so a folder shipped to this
     * application already is not read again. */
    private static final Map<String, String> KEYS = new ConcurrentHashMap<>();
    /** Executor: the shipments tasks brought, by content key. */
    private static final Map<String, Shipment> RECEIVED = new ConcurrentHashMap<>();

    private ShippedModels() {}

    /** Driver: broadcasts {@code folder} to the executors of {@code sc}, once per application and content. */
    static synchronized Shipment ship(SparkContext sc, Path folder) throws IOException {
        List<String> files = HfCheckpoint.modelFiles(folder);
        if (files.isEmpty()) throw new IOException(folder + " holds no model files to send to the executors");
        StringBuilder version =
                new StringBuilder(folder.toAbsolutePath().normalize().toString());
        LinkedHashMap<String, Long> sizes = new LinkedHashMap<>();
        for (String f : files) {
            Path p = folder.resolve(f);
            sizes.put(f, Files.size(p));
            version.append('\n')
                    .append(f)
                    .append('\t')
                    .append(sizes.get(f))
                    .append('\t')
                    .append(Files.getLastModifiedTime(p).toMillis());
        }
        String app = sc.applicationId() + "/";
        SHIPPED.keySet().removeIf(k -> !k.startsWith(app)); // shipments of stopped contexts of this JVM
        String known = KEYS.get(version.toString());
        if (known != null && SHIPPED.containsKey(app + known)) return SHIPPED.get(app + known);
        // one read of the files: each piece is hashed into the content key and broadcast
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(sc);
        ArrayList<Broadcast<byte[]>> pieces = new ArrayList<>();
        String key = ModelCache.contentKey(folder, files, PIECE, (file, piece) -> pieces.add(jsc.broadcast(piece)));
        KEYS.put(version.toString(), key);
        Shipment same = SHIPPED.get(app + key); // the same model from another folder
        if (same != null) {
            pieces.forEach(b -> b.destroy());
            return same;
        }
        Shipment s = new Shipment(key, sizes, pieces);
        SHIPPED.put(app + key, s);
        return s;
    }

    /** Executor: makes a shipment a task brought known to this JVM, before its reference is resolved. */
    static void received(Shipment s) {
        RECEIVED.putIfAbsent(s.key, s);
    }

    /** Executor: the local folder of a shipped model, from this host's cache or written into it from the pieces. */
    static Path localFolder(String ref) throws IOException {
        String key = ref.substring(PREFIX.length());
        ModelCache cache = ModelCache.defaultCache();
        Path cached = cache.root().resolve(key);
        if (Files.isDirectory(cached)) return cached;
        Shipment s = RECEIVED.get(key);
        if (s == null) {
            throw new IOException("model " + ref + " is not in this host's cache (" + cache.root() + ") and no task "
                    + "brought it: references of this form are made by a driver for its own executors");
        }
        Map<String, Integer> firstPiece = new LinkedHashMap<>();
        int at = 0;
        for (Map.Entry<String, Long> e : s.sizes.entrySet()) {
            firstPiece.put(e.getKey(), at);
            at += (int) ((e.getValue() + PIECE - 1) / PIECE);
        }
        return cache.store(key, "shipped by a Spark driver", s.sizes, (path, to) -> {
            int first = firstPiece.get(path);
            int n = (int) ((s.sizes.get(path) + PIECE - 1) / PIECE);
            try (OutputStream out = Files.newOutputStream(to)) {
                for (int i = first; i < first + n; i++)
                    out.write(s.pieces.get(i).value());
            }
        });
    }
}
