package io.sparkformers.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkformers.spark.DeltaLake;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code predict} on Delta tables (write, read back, append) and {@code predict --streaming} into Delta. */
class PredictDeltaStreamingTest {
    static SparkSession spark;

    static final StructType TEXTS =
            new StructType().add("id", DataTypes.IntegerType).add("text", DataTypes.StringType);

    @BeforeAll
    static void start() {
        spark = DeltaLake.configure(
                        SparkSession.builder()
                                .master("local[2]")
                                .appName("PredictDeltaStreamingTest")
                                .config("spark.ui.enabled", "false")
                                .config("spark.sql.shuffle.partitions", "2")
                                .config("spark.databricks.delta.snapshotPartitions", "1"),
                        new SparkConf())
                .getOrCreate();
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /** Appends rows {@code from} … {@code to - 1} as one Parquet file to {@code dir}. */
    private static void addFile(Path dir, int from, int to) {
        List<Row> rows = new ArrayList<>();
        for (int i = from; i < to; i++) rows.add(RowFactory.create(i, "row " + i + " is a short sentence."));
        spark.createDataFrame(rows, TEXTS).coalesce(1).write().mode("append").parquet(dir.toString());
    }

    private static void predict(String... args) {
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int code;
        try {
            List<String> all = new ArrayList<>(List.of("predict", "--task", "sentence-embeddings", "--model"));
            all.add("all-MiniLM-L6-v2");
            all.addAll(List.of(args));
            code = Main.run(all.toArray(new String[0]));
        } finally {
            System.setErr(old);
        }
        String stderr = err.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, stderr.lines().reduce((a, b) -> b).orElse(stderr));
    }

    private static long distinctIds(Path table) {
        var df = spark.read().format("delta").load(table.toString());
        long rows = df.count();
        assertEquals(rows, df.select("id").distinct().count(), "an id written twice");
        return rows;
    }

    @Tag("smoke") // the smoke suite of every Spark line (.ci/run)
    @Test
    void writesADeltaTableReadsItBackAndAppends(@TempDir Path tmp) {
        Path in = tmp.resolve("in");
        Path table = tmp.resolve("scored");
        addFile(in, 0, 3);
        predict("--input", in.toString(), "--output", table.toString(), "--output-format", "delta");
        assertEquals(3, distinctIds(table));
        Row first = spark.read()
                .format("delta")
                .load(table.toString())
                .orderBy("id")
                .first();
        assertEquals(384, ((org.apache.spark.ml.linalg.Vector) first.getAs("embedding")).size());

        addFile(tmp.resolve("more"), 3, 5);
        predict(
                "--input",
                tmp.resolve("more").toString(),
                "--output",
                table.toString(),
                "--output-format",
                "delta",
                "--mode",
                "append");
        assertEquals(5, distinctIds(table));
        assertEquals(2, spark.sql("DESCRIBE HISTORY delta.`" + table + "`").count(), "two Delta commits");

        // a Delta table as the input
        Path back = tmp.resolve("back.parquet");
        predict(
                "--input",
                table.toString(),
                "--input-format",
                "delta",
                "--output",
                back.toString(),
                "--output-col",
                "embedding_again");
        assertEquals(5, spark.read().parquet(back.toString()).count());
    }

    @Tag("smoke") // the smoke suite of every Spark line (.ci/run)
    @Test
    void streamingPredictScoresOnlyTheNewFilesEachRun(@TempDir Path tmp) {
        Path in = tmp.resolve("landing");
        Path table = tmp.resolve("scored");
        String checkpoint = tmp.resolve("checkpoint").toString();
        addFile(in, 0, 4);
        addFile(in, 4, 6);
        String[] stream = {
            "--input",
            in.toString(),
            "--output",
            table.toString(),
            "--output-format",
            "delta",
            "--streaming",
            "--checkpoint-location",
            checkpoint,
            "--trigger",
            "available-now"
        };
        predict(stream);
        long firstRun = distinctIds(table);
        assertEquals(6, firstRun);

        addFile(in, 6, 9);
        predict(stream);
        long secondRun = distinctIds(table);
        assertEquals(9, secondRun, "the second run scores the new file only");
        predict(stream); // nothing new: nothing written
        assertEquals(9, distinctIds(table));
        System.out.println("predict --streaming into Delta: " + firstRun + " rows, then " + secondRun);
    }

    @Test
    void finetuneAndEvaluateReadLabelledRowsFromADeltaTable(@TempDir Path tmp) throws Exception {
        Path table = tmp.resolve("labelled");
        StructType labelled = new StructType().add("text", DataTypes.StringType).add("label", DataTypes.StringType);
        spark.createDataFrame(
                        List.of(RowFactory.create("good film", "pos"), RowFactory.create("dull film", "neg")), labelled)
                .write()
                .format("delta")
                .save(table.toString());
        var data = new io.sparkformers.jobs.config.FinetuneConfig.Data(
                table.toString(), null, "delta", "text", null, "label", 32, -1, -1);
        var rows = DataSources.read(table.toString(), false, data, -1);
        assertEquals(2, rows.rows().size());
        assertTrue(rows.description().startsWith("delta "), rows.description());
    }
}
