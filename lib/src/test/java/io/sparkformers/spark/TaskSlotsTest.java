package io.sparkformers.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
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

    @BeforeAll
    static void start() {
        spark = SparkTestSupport.local("task-slots");
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
        assertEquals(List.of("id", "text"), List.of(spread.columns()));
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
    }

    @Test
    void anInputWithEnoughPartitionsIsLeftAlone() {
        Dataset<Row> df = SparkTestSupport.frame(spark, SparkTestSupport.mixedTexts(10), 2);
        assertSame(df, TaskSlots.spread(df, 2));
    }

    /** predict over one multi-line CSV file (never split by the reader): two partitions, output in input order. */
    @Test
    void predictOverOneCsvFileUsesBothSlotsAndKeepsRowsInOrder(@TempDir Path dir) throws Exception {
        List<String> texts = SparkTestSupport.mixedTexts(40);
        StringBuilder csv = new StringBuilder("id,text\n");
        for (int i = 0; i < texts.size(); i++)
            csv.append(100 + i).append(",\"").append(texts.get(i)).append("\"\n");
        Path in = dir.resolve("in.csv");
        Files.writeString(in, csv);
        Path out = dir.resolve("out.json");
        BatchScoring.Result r = BatchScoring.run(
                spark,
                BatchScoring.Options.of(
                        "sentence-embeddings", SparkTestSupport.miniLm(), in.toString(), out.toString()));
        assertEquals(texts.size(), r.rows());
        assertEquals(2, r.metrics().partitions(), "scored on both task slots");
        List<Path> parts;
        try (Stream<Path> s = Files.list(out)) {
            parts = s.filter(p -> p.getFileName().toString().startsWith("part-"))
                    .sorted()
                    .toList();
        }
        assertEquals(2, parts.size(), parts.toString());
        List<JsonNode> rows = new ArrayList<>();
        for (Path p : parts) {
            for (String line : Files.readAllLines(p)) rows.add(Json.MAPPER.readTree(line));
        }
        assertEquals(texts.size(), rows.size());
        for (int i = 0; i < rows.size(); i++) {
            assertEquals(100 + i, rows.get(i).path("id").asInt(), "row " + i);
            assertEquals(texts.get(i), rows.get(i).path("text").asText());
            assertEquals(
                    384,
                    rows.get(i).path("embedding").path("values").size(),
                    "an ML vector of 384"); // {"type":1,"values":[…]}
        }
    }
}
