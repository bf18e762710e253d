package io.sparkformers.spark;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The driver reports the partitions of a write as they finish, with rows, rows/s and ETA; other jobs stay quiet. */
class ScoringProgressTest {
    static SparkSession spark;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        spark = SparkSession.builder()
                .master("local[2]")
                .appName("ScoringProgressTest")
                .config("spark.ui.enabled", "false")
                .getOrCreate();
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
    }

    @Test
    void aWriteReportsEachFinishedPartitionWithRowsSpeedAndEtaAndOtherJobsAreNotReported() throws Exception {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 40; i++) rows.add(RowFactory.create("row " + i));
        Dataset<Row> df = spark.createDataFrame(
                JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, 4),
                new StructType().add("text", DataTypes.StringType));
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        AtomicLong clock = new AtomicLong(); // one second per reading: job start, then each partition
        CountDownLatch go = new CountDownLatch(1);
        Thread other = new Thread(
                () -> { // another thread's job: not followed
                    try {
                        go.await();
                        df.count();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
        other.start(); // before the scope (threads inherit local properties)
        try (ScoringProgress p = new ScoringProgress(
                spark.sparkContext(),
                "predict",
                new PrintStream(buf, true, StandardCharsets.UTF_8),
                false,
                0,
                () -> clock.addAndGet(1_000_000_000L))) {
            go.countDown();
            other.join();
            df.write().parquet(tmp.resolve("out.parquet").toString());
            p.awaitReported(10_000);
        }
        df.count(); // after the scope: not followed
        assertEquals("""
                predict: 1/4 partitions | 10 rows | 10.0 rows/s | elapsed 0:00:01 | ETA 0:00:03
                predict: 2/4 partitions | 20 rows | 10.0 rows/s | elapsed 0:00:02 | ETA 0:00:02
                predict: 3/4 partitions | 30 rows | 10.0 rows/s | elapsed 0:00:03 | ETA 0:00:01
                predict: 4/4 partitions | 40 rows | 10.0 rows/s | elapsed 0:00:04
                """, buf.toString(StandardCharsets.UTF_8));
    }

    @Test
    void withoutATerminalLinesComeAtMostOnceAnIntervalBesidesTheFirstAndTheLast() throws Exception {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 60; i++) rows.add(RowFactory.create("row " + i));
        Dataset<Row> df = spark.createDataFrame(
                JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, 6),
                new StructType().add("text", DataTypes.StringType));
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        AtomicLong clock = new AtomicLong();
        try (ScoringProgress p = new ScoringProgress(
                spark.sparkContext(),
                "predict",
                new PrintStream(buf, true, StandardCharsets.UTF_8),
                false,
                2.5,
                () -> clock.addAndGet(1_000_000_000L))) {
            df.write().parquet(tmp.resolve("out.parquet").toString());
            p.awaitReported(10_000);
        }
        List<String> partitions = buf.toString(StandardCharsets.UTF_8)
                .lines()
                .map(l -> l.substring(0, l.indexOf(" partitions")))
                .toList();
        assertEquals(List.of("predict: 1/6", "predict: 4/6", "predict: 6/6"), partitions);
    }
}
