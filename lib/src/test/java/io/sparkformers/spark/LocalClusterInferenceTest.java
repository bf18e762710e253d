package io.sparkformers.spark;

import static io.sparkformers.spark.SparkTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.ModelCache;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedder on two executor JVMs ({@code local-cluster[2,1,1024]}): one model load per executor JVM, read back
 * through a job; rows and order kept; scores equal to the plain-Java path. A model read from a Hadoop URI is copied
 * once per host: the two executors share this host's cache, and the driver only lists the source. A folder of the
 * driver's reaches the executors through Spark (broadcast pieces), once per host. The session: {@link LocalClusterSessions}.
 */
class LocalClusterInferenceTest {
    static SparkSession spark;
    static String model;

    @BeforeAll
    static void start() throws Exception {
        model = miniLm();
        spark = LocalClusterSessions.start("LocalClusterInferenceTest", 2, 1024);
    }

    @AfterAll
    static void stop() {
        LocalClusterSessions.stop(spark);
    }

    /** (JVM name, loads so far) from every partition of a probe job. */
    private static Map<String, Integer> loadsPerJvm(int partitions) {
        return perJvm(partitions, false);
    }

    /** (JVM name, counter so far) from every partition of a probe job: model loads, or Hadoop-folder copies. */
    private static Map<String, Integer> perJvm(int partitions, boolean copies) {
        List<Integer> seeds = new ArrayList<>();
        for (int i = 0; i < partitions; i++) seeds.add(i);
        List<String> reports = JavaSparkContext.fromSparkContext(spark.sparkContext())
                .parallelize(seeds, partitions)
                .mapPartitions(it -> List.of(ManagementFactory.getRuntimeMXBean()
                                        .getName() + "=" + (copies ? ModelCache.copiesMade() : ExecutorModels.loads()))
                        .iterator())
                .collect();
        Map<String, Integer> out = new HashMap<>();
        for (String r : reports) {
            int eq = r.lastIndexOf('=');
            out.merge(r.substring(0, eq), Integer.parseInt(r.substring(eq + 1)), Math::max);
        }
        return out;
    }

    @Test
    void eachExecutorJvmLoadsTheModelOnceAndScoresMatchThePlainJavaPath() throws Exception {
        List<String> texts = mixedTexts(32);
        JavaSparkContext.fromSparkContext(spark.sparkContext())
                .parallelize(List.of(1, 2, 3, 4, 5, 6, 7, 8), 8)
                .foreachPartition(it -> ExecutorModels.clear()); // other tests of this class may have loaded it
        Map<String, Integer> before = loadsPerJvm(16);
        SentenceEmbedder embedder = new SentenceEmbedder().setModel(model).setBatchSize(8);
        List<Row> first = embedder.transform(frame(spark, texts, 8)).collectAsList();
        List<Row> second = embedder.transform(frame(spark, texts, 8)).collectAsList(); // a second job, same cache

        Map<String, Integer> loads = loadsPerJvm(16);
        String driver = ManagementFactory.getRuntimeMXBean().getName();
        assertFalse(loads.containsKey(driver), "tasks ran in executor JVMs, not the driver");
        assertEquals(2, loads.size(), "both executor JVMs answered: " + loads);
        for (var e : loads.entrySet()) {
            assertEquals(
                    1,
                    e.getValue() - before.getOrDefault(e.getKey(), 0),
                    "loads in executor " + e.getKey() + ": " + before + " -> " + loads);
        }

        assertEquals(texts.size(), first.size());
        try (HfModel m = HfModel.fromPretrained(
                        HfCheckpoint.open(Path.of(model)), Task.SENTENCE_EMBEDDING, ai.djl.Device.cpu());
                TextTokenizer tok = m.tokenizer(512)) {
            float[][] ref = direct(m, tok, texts);
            double worst = 0;
            for (int i = 0; i < texts.size(); i++) {
                assertEquals(i, first.get(i).getInt(0), "row order over 8 partitions on 2 executors");
                double[] v = ((Vector) first.get(i).getAs("embedding")).toArray();
                worst = Math.max(worst, maxAbsDiff(ref[i], v));
                assertArrayEquals(v, ((Vector) second.get(i).getAs("embedding")).toArray(), 0.0);
            }
            assertTrue(worst <= 1e-5, "max |diff| vs HfModel = " + worst);
        }
        assertEquals(32, embedder.lastMetrics().rows(), "the last transform's accumulators count its rows once");
    }

    @Test
    void aModelAtAHadoopUriIsCopiedOncePerHostAndScoresAsTheLocalFolder(@TempDir Path tmp) throws Exception {
        Path folder = copyTree(Path.of(model), tmp.resolve("all-MiniLM-L6-v2-" + UUID.randomUUID()));
        String uri = folder.toUri().toString();
        assertTrue(uri.startsWith("file:/"), uri);
        List<String> texts = mixedTexts(16);
        List<Row> viaFolder = new SentenceEmbedder()
                .setModel(model)
                .setBatchSize(4)
                .transform(frame(spark, texts, 4))
                .collectAsList(); // shipped by the driver (see the next test): not counted
        int copiesBefore =
                perJvm(16, true).values().stream().mapToInt(Integer::intValue).sum();
        int driverCopies = ModelCache.copiesMade();
        List<Row> viaUri = new SentenceEmbedder()
                .setModel(uri)
                .setBatchSize(4)
                .transform(frame(spark, texts, 4))
                .collectAsList();

        Map<String, Integer> copies = perJvm(16, true);
        assertEquals(2, copies.size(), "both executor JVMs answered: " + copies);
        int made = copies.values().stream().mapToInt(Integer::intValue).sum() - copiesBefore;
        assertEquals(1, made, "copies made by the 2 executors of this host: " + copies);
        assertEquals(driverCopies, ModelCache.copiesMade(), "the driver only lists the source, it copies nothing");
        List<ModelCache.Entry> entries = ModelCache.defaultCache().entries().stream()
                .filter(e -> e.source().equals(uri))
                .toList();
        assertEquals(1, entries.size(), "cache entries for " + uri + ": " + entries);
        assertTrue(Files.isRegularFile(entries.get(0).dir().resolve("model.safetensors")));

        assertEquals(texts.size(), viaUri.size());
        for (int i = 0; i < texts.size(); i++) {
            assertEquals(i, viaUri.get(i).getInt(0), "row order");
            assertArrayEquals(
                    ((Vector) viaFolder.get(i).getAs("embedding")).toArray(),
                    ((Vector) viaUri.get(i).getAs("embedding")).toArray(),
                    1e-6,
                    "row " + i);
        }
        Path copy = entries.get(0).dir();
        ModelRefs.deleteTree(copy); // each run copies a new folder: keep the cache small
        Files.deleteIfExists(copy.resolveSibling(copy.getFileName() + ".json"));
        Files.deleteIfExists(copy.resolveSibling(copy.getFileName() + ".lock"));
    }

    @Test
    void aFolderOfTheDriverReachesTheExecutorsThroughSparkOncePerHost(@TempDir Path tmp) throws Exception {
        // a new copy of the model with one byte changed in a file the model does not read: a new content key, so
        // neither executor can have it cached yet
        Path folder = copyTree(Path.of(model), tmp.resolve("driver-only"));
        Files.writeString(folder.resolve("README.md"), "shipped " + UUID.randomUUID());
        Files.createDirectories(folder.resolve("checkpoint-5")); // training leftovers stay behind
        Files.writeString(folder.resolve("checkpoint-5").resolve("optimizer.pt"), "not part of the model");
        String key = ModelCache.contentKey(folder, HfCheckpoint.modelFiles(folder));
        int copiesBefore =
                perJvm(16, true).values().stream().mapToInt(Integer::intValue).sum();
        int driverCopies = ModelCache.copiesMade();

        List<String> texts = mixedTexts(16);
        SentenceEmbedder embedder =
                new SentenceEmbedder().setModel(folder.toString()).setBatchSize(4);
        List<Row> shipped = embedder.transform(frame(spark, texts, 4)).collectAsList();
        List<Row> again = embedder.transform(frame(spark, texts, 4)).collectAsList(); // the same shipment

        Map<String, Integer> copies = perJvm(16, true);
        assertEquals(2, copies.size(), "both executor JVMs answered: " + copies);
        assertEquals(
                1,
                copies.values().stream().mapToInt(Integer::intValue).sum() - copiesBefore,
                "one copy for the 2 executors of this host: " + copies);
        assertEquals(driverCopies, ModelCache.copiesMade(), "the driver copies nothing into its cache");
        Path cached = ModelCache.defaultCache().root().resolve(key);
        assertTrue(Files.isRegularFile(cached.resolve("model.safetensors")), cached + " holds the shipped model");
        assertTrue(Files.isRegularFile(cached.resolve("1_Pooling/config.json")), "module folders travel");
        assertFalse(Files.exists(cached.resolve("checkpoint-5")), "training leftovers do not travel");
        assertEquals(Files.mismatch(folder.resolve("model.safetensors"), cached.resolve("model.safetensors")), -1L);
        for (int i = 0; i < texts.size(); i++) {
            assertArrayEquals(
                    ((Vector) again.get(i).getAs("embedding")).toArray(),
                    ((Vector) shipped.get(i).getAs("embedding")).toArray(),
                    0.0,
                    "row " + i);
        }
        ModelRefs.deleteTree(cached);
        Files.deleteIfExists(cached.resolveSibling(key + ".json"));
        Files.deleteIfExists(cached.resolveSibling(key + ".lock"));
    }

    /** A copy of the folder {@code from} (sub-folders such as 1_Pooling/ included) at {@code to}. */
    private static Path copyTree(Path from, Path to) throws java.io.IOException {
        try (var files = Files.walk(from)) {
            for (Path f : files.toList()) {
                Path target = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) Files.createDirectories(target);
                else Files.copy(f, target);
            }
        }
        return to;
    }
}
