package io.sparkformers.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

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
}
