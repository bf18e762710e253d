package io.sparkformers.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A one-partition input is scored on every task slot, its rows and their order unchanged. */
class TaskSlotsTest {

    static SparkSession spark;
    static String model;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() throws Exception {
        spark = SparkTestSupport.local("task-slots");
        model = SparkTestSupport.miniLm();
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
    }

    @Test
    void aOnePartitionFrameIsSpreadOverTheSlotsInOrder() {
        List<String> texts = SparkTestSupport.mixedTexts(600);
        Dataset<Row> spread = TaskSlots.spread(SparkTestSupport.frame(spark, texts, 1), TaskSlots.of(spark));
        assertEquals(2, TaskSlots.of(spark));
        assertEquals(2, spread.rdd().getNumPartitions());
        assertEquals(List.of("id", "text", TaskSlots.ROW_ID), List.of(spread.columns()));
        List<Integer> sizes = spread.javaRDD()
                .mapPartitions(it -> {
                    int n = 0;
                    for (; it.hasNext(); it.next()) n++;
                    return List.of(n).iterator();
                })
                .collect();
        assertTrue(sizes.stream().allMatch(n -> n > 0), "every slot gets rows: " + sizes);
        List<Row> rows = spread.collectAsList();
        assertEquals(texts.size(), rows.size());
        for (int i = 0; i < rows.size(); i++) {
            assertEquals(i, rows.get(i).getInt(0), "row " + i);
            assertEquals(texts.get(i), rows.get(i).getString(1));
        }
        assertEquals(
                List.of("id", "text"), List.of(TaskSlots.withoutRowId(spread).columns()));
    }

    @Test
    void aBadRowOfASpreadInputIsNamedByItsInputPosition() {
        List<String> texts = new ArrayList<>(SparkTestSupport.mixedTexts(60));
        texts.set(50, null); // input row 50 of partition 0; the spread puts it in partition 1
        Dataset<Row> spread = TaskSlots.spread(SparkTestSupport.frame(spark, texts, 1), 2);
        List<Integer> bad = spread.javaRDD()
                .mapPartitionsWithIndex(
                        (p, it) -> {
                            List<Integer> at = new ArrayList<>();
                            for (int i = 0; it.hasNext(); i++) if (it.next().isNullAt(1)) at.add(p * 1000 + i);
                            return at.iterator();
                        },
                        false)
                .collect();
        assertEquals(1, bad.size());
        assertTrue(bad.get(0) >= 1000 && bad.get(0) != 1050, "the bad row moved to partition 1: " + bad);
        Exception e = assertThrows(
                Exception.class,
                () -> new SentenceEmbedder().setModel(model).transform(spread).count());
        StringBuilder msg = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause())
            msg.append(t.getMessage()).append(" | ");
        assertTrue(
                msg.toString()
                        .contains(": row 50 of partition 0 (0-based, in partition order) has invalid input"
                                + " in column 'text': text is null"),
                msg.toString());
        assertFalse(msg.toString().contains("of partition 1"), msg.toString());
    }

    @Test
    void predictOverAOnePartitionCsvWritesOnePartPerSlotInInputOrder() throws Exception {
        int n = 40;
        StringBuilder csv = new StringBuilder("id,text\n");
        List<String> texts = SparkTestSupport.mixedTexts(n);
        for (int i = 0; i < n; i++) {
            String t = i == 7 ? texts.get(i) + "\nsecond line" : texts.get(i); // multiLine: one partition
            csv.append(i)
                    .append(',')
                    .append(i == 13 || i == 31 ? "" : "\"" + t + "\"")
                    .append('\n');
        }
        Path in = tmp.resolve("in.csv");
        Files.writeString(in, csv.toString());
        assertEquals(
                1,
                spark.read()
                        .option("header", "true")
                        .option("multiLine", "true")
                        .csv(in.toString())
                        .rdd()
                        .getNumPartitions());

        Path kept = tmp.resolve("kept");
        BatchScoring.Result r = BatchScoring.run(
                spark,
                BatchScoring.Options.of("sentence-embeddings", model, in.toString(), kept.toString())
                        .withHandleInvalid("keep"));
        assertEquals(n, r.rows());
        List<Path> parts;
        try (Stream<Path> files = Files.list(kept)) {
            parts = files.filter(f -> f.getFileName().toString().startsWith("part-"))
                    .sorted()
                    .toList();
        }
        assertEquals(2, parts.size(), "one part file per task slot: " + parts);
        List<Row> rows = new ArrayList<>();
        for (Path part : parts) {
            List<Row> own = spark.read().parquet(part.toString()).collectAsList();
            assertFalse(own.isEmpty(), part.toString());
            rows.addAll(own);
        }
        Row first = rows.get(0);
        assertEquals(
                List.of("id", "text", "embedding", "embedding_error"),
                List.of(first.schema().fieldNames()));
        assertEquals(n, rows.size());
        // each row's embedding is its own text's: the same stage over the unsplit rows
        Map<String, double[]> reference = new HashMap<>();
        for (Row x : new SentenceEmbedder()
                .setModel(model)
                .setHandleInvalid("skip")
                .transform(spark.read()
                        .option("header", "true")
                        .option("multiLine", "true")
                        .csv(in.toString()))
                .collectAsList()) {
            reference.put(x.getString(0), ((Vector) x.get(2)).toArray());
        }
        for (int i = 0; i < n; i++) {
            Row x = rows.get(i);
            assertEquals(String.valueOf(i), x.getString(0), "output row " + i + " is input row " + i);
            if (i == 13 || i == 31) {
                assertNull(x.get(2));
                assertEquals("text is null", x.getString(3));
            } else {
                assertNull(x.get(3));
                assertNotNull(reference.get(x.getString(0)));
                assertArrayEquals(reference.get(x.getString(0)), ((Vector) x.get(2)).toArray(), 1e-5, "row " + i);
            }
        }

        BatchScoring.Result skipped = BatchScoring.run(
                spark,
                BatchScoring.Options.of(
                                "sentence-embeddings",
                                model,
                                in.toString(),
                                tmp.resolve("skipped").toString())
                        .withHandleInvalid("skip"));
        assertEquals(n - 2, skipped.rows());
        List<String> ids = spark.read().parquet(tmp.resolve("skipped").toString()).collectAsList().stream()
                .map(x -> x.getString(0))
                .sorted(java.util.Comparator.comparingInt(Integer::parseInt))
                .toList();
        assertEquals(n - 2, ids.size());
        assertFalse(ids.contains("13") || ids.contains("31"));

        Exception e = assertThrows(
                Exception.class,
                () -> BatchScoring.run(
                        spark,
                        BatchScoring.Options.of(
                                "sentence-embeddings",
                                model,
                                in.toString(),
                                tmp.resolve("err").toString())));
        StringBuilder msg = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause())
            msg.append(t.getMessage()).append(" | ");
        assertTrue(
                msg.toString().contains("row 13 of partition 0")
                        || msg.toString().contains("row 31 of partition 0"),
                msg.toString());
    }

    @Test
    void anInputWithEnoughPartitionsIsLeftAlone() {
        Dataset<Row> df = SparkTestSupport.frame(spark, SparkTestSupport.mixedTexts(10), 2);
        assertSame(df, TaskSlots.spread(df, 2));
    }
}
