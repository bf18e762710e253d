package io.sparkformers.jobs;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Dataset;
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

/** {@code sparkformers predict} end to end in local[2]: Parquet and CSV files, and its one-line errors. */
class PredictCommandTest {
    static SparkSession spark;

    @TempDir
    static Path tmp;

    static Path parquet;
    static Path csv;

    @BeforeAll
    static void start() {
        spark = SparkSession.builder()
                .master("local[2]")
                .appName("PredictCommandTest")
                .config("spark.ui.enabled", "false")
                .getOrCreate();
        StructType schema = new StructType()
                .add("id", DataTypes.IntegerType)
                .add("text", DataTypes.StringType)
                .add("lang", DataTypes.StringType);
        Dataset<Row> df = spark.createDataFrame(
                        List.of(
                                RowFactory.create(1, "A man is eating food.", "en"),
                                RowFactory.create(2, "Spark, with \"quotes\", scores rows.", "en"),
                                RowFactory.create(3, "Un homme mange.", "fr")),
                        schema)
                .repartition(2);
        parquet = tmp.resolve("in.parquet");
        csv = tmp.resolve("in.csv");
        df.write().parquet(parquet.toString());
        df.coalesce(1).write().option("header", "true").option("escape", "\"").csv(csv.toString());
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /**
     * {@code sparkformers predict --task task --model all-MiniLM-L6-v2 --input input --output output} and then
     * {@code more}: the shape of almost every call here.
     */
    private static Object[] predict(String task, Object input, Object output, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of(
                "predict",
                "--task",
                task,
                "--model",
                "all-MiniLM-L6-v2",
                "--input",
                input.toString(),
                "--output",
                output.toString()));
        args.addAll(List.of(more));
        return run(args.toArray(String[]::new));
    }

    /** Exit code and stderr of a command line. */
    private static Object[] run(String... args) {
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = Main.run(args);
            return new Object[] {code, err.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setErr(old);
        }
    }

    @Test
    void scoresAParquetTableKeepingEveryColumn() {
        String out = tmp.resolve("out-parquet").toString();
        Object[] r = predict("sentence-embeddings", parquet, out);
        assertEquals(0, r[0], (String) r[1]);
        assertTrue(
                ((String) r[1])
                        .lines()
                        .anyMatch(l -> l.matches("predict: (\\d)/\\1 partitions \\| 3 rows \\| "
                                + "[0-9.]+ rows/s \\| elapsed \\d:\\d\\d:\\d\\d")),
                "the last partition reported on stderr: " + r[1]);
        Dataset<Row> scored = spark.read().parquet(out);
        assertEquals(List.of("id", "text", "lang", "embedding"), List.of(scored.columns()));
        assertEquals(3, scored.count());
        assertEquals(0, scored.filter("embedding is null").count());
    }

    @Test
    void zeroShotClassificationWithItsTaskFlagsRanksTheLabels() {
        String out = tmp.resolve("out-zero-shot").toString();
        Object[] r = predict(
                "zero-shot-classification",
                parquet,
                out,
                "--candidate-labels",
                "food,software,weather",
                "--hypothesis-template",
                "This text is about {}.");
        assertEquals(0, r[0], (String) r[1]);
        Dataset<Row> scored = spark.read().parquet(out).orderBy("id");
        assertEquals(List.of("id", "text", "lang", "labels", "scores"), List.of(scored.columns()));
        assertEquals(
                DataTypes.createArrayType(DataTypes.StringType, true),
                scored.schema().apply("labels").dataType());
        assertEquals(
                DataTypes.createArrayType(DataTypes.DoubleType, true),
                scored.schema().apply("scores").dataType());
        Row eating = scored.first();
        assertEquals("food", eating.getList(3).get(0), "A man is eating food. -> " + eating.getList(3));
        List<Double> scores = eating.getList(4);
        assertEquals(1.0, scores.stream().mapToDouble(Double::doubleValue).sum(), 1e-6, "softmax across labels");
    }

    @Tag("smoke") // the smoke suite of every Spark line (.ci/run)
    @Test
    void scoresACsvFileWritingArraysAsJson() throws Exception {
        Path out = tmp.resolve("out.csv");
        Object[] r = predict("sentence-embeddings", csv, out, "--output-type", "array");
        assertEquals(0, r[0], (String) r[1]);
        Dataset<Row> scored = spark.read()
                .option("header", "true")
                .option("multiLine", "true")
                .option("escape", "\"")
                .csv(out.toString())
                .orderBy("id");
        assertEquals(List.of("id", "text", "lang", "embedding"), List.of(scored.columns()));
        List<Row> rows = scored.collectAsList();
        assertEquals("Spark, with \"quotes\", scores rows.", rows.get(1).getString(1));
        String json = rows.get(0).getString(3);
        assertTrue(json.startsWith("[") && json.split(",").length == 384, json.substring(0, 40));
        assertTrue(Files.isDirectory(out));
    }

    @Test
    void errorsAreOneClearLineWithExitCode1() {
        String out = tmp.resolve("never").toString();
        Object[] missing = predict("sentence-embeddings", tmp.resolve("nope.parquet"), out);
        assertEquals(1, missing[0]);
        assertTrue(((String) missing[1]).contains("nope.parquet' does not exist"), (String) missing[1]);
        assertFalse(((String) missing[1]).contains("\tat "), "no stack trace without --verbose");

        Object[] format = predict("sentence-embeddings", parquet, out, "--input-format", "xml");
        assertEquals(1, format[0]);
        assertTrue(((String) format[1]).contains("unknown format 'xml' for --input-format"), (String) format[1]);

        Object[] column = predict("sentence-embeddings", parquet, out, "--text-col", "body");
        assertEquals(1, column[0]);
        assertTrue(
                ((String) column[1]).contains("no column 'body'") && ((String) column[1]).contains("--text-col"),
                (String) column[1]);

        Object[] exists = predict("sentence-embeddings", parquet, csv);
        assertEquals(1, exists[0]);
        assertTrue(((String) exists[1]).contains("already exists; pass --mode overwrite"), (String) exists[1]);

        Object[] task = predict("speech-recognition", parquet, out);
        assertEquals(1, task[0]);
        assertTrue(((String) task[1]).contains("unknown task 'speech-recognition'"), (String) task[1]);
    }

    @Test
    void aNullTextFailsWithOneLineNamingTheRowColumnAndFixAsTheLastLine() {
        StructType schema = new StructType().add("id", DataTypes.IntegerType).add("text", DataTypes.StringType);
        Path in = tmp.resolve("null-text.parquet");
        spark.createDataFrame(List.of(RowFactory.create(1, "fine"), RowFactory.create(2, null)), schema)
                .coalesce(1)
                .write()
                .parquet(in.toString());
        String[] args = {
            "predict",
            "--task",
            "sentence-embeddings",
            "--model",
            "all-MiniLM-L6-v2",
            "--input",
            in.toString(),
            "--output",
            tmp.resolve("never-null").toString()
        };
        Object[] r = run(args);
        assertEquals(1, r[0]);
        String err = (String) r[1];
        List<String> lines = err.lines().toList();
        String last = lines.get(lines.size() - 1);
        assertTrue(
                last.startsWith("error: ")
                        && last.contains(
                                ": row 1 of partition 0 (0-based, in "
                                        + "partition order) has invalid input in column 'text': text is null. Set handleInvalid to 'skip'"),
                err);
        assertTrue(err.contains("input in 1 partition(s), 2 task slots: spread"), "the input was spread: " + err);
        assertFalse(
                err.contains("\tat ") || err.contains("Driver stacktrace") || err.contains("Job aborted"),
                "no Spark stack trace without --verbose: " + err);

        String[] verbose = java.util.Arrays.copyOf(args, args.length + 1);
        verbose[args.length] = "--verbose";
        verbose[args.length - 1] = tmp.resolve("never-null-verbose").toString();
        Object[] v = run(verbose);
        String verr = (String) v[1];
        assertTrue(verr.contains("\tat "), "--verbose prints the stack trace");
        List<String> vlines = verr.lines().toList();
        assertEquals(
                last.replaceAll("sentEmb_\\w+", "uid"),
                vlines.get(vlines.size() - 1).replaceAll("sentEmb_\\w+", "uid"),
                "the one line stays last with --verbose");
    }

    @Test
    void configFileWithSetAndFlagOverrides() throws Exception {
        Path conf = tmp.resolve("predict.yaml");
        Files.writeString(
                conf,
                "task: sentence-embeddings\nmodel: all-MiniLM-L6-v2\ninput: " + parquet + "\noutput: "
                        + tmp.resolve("from-file") + "\noutput_col: vec\nbatch_size: 2\noutput_type: vector\n");
        String out = tmp.resolve("out-config").toString();
        Object[] r = run("predict", "--config", conf.toString(), "--set", "output_type=array", "--output", out);
        assertEquals(0, r[0], (String) r[1]);
        assertFalse(Files.exists(tmp.resolve("from-file")), "--output on the command line wins over the file");
        Dataset<Row> scored = spark.read().parquet(out);
        assertEquals(List.of("id", "text", "lang", "vec"), List.of(scored.columns()));
        assertEquals(
                DataTypes.createArrayType(DataTypes.FloatType, false).typeName(),
                scored.schema().apply("vec").dataType().typeName(),
                "--set output_type=array wins over the file");
    }

    @Test
    void unknownConfigKeyFailsWithDidYouMean() throws Exception {
        Path conf = tmp.resolve("typo.yaml");
        Files.writeString(conf, "task: sentence-embeddings\nmodel: all-MiniLM-L6-v2\nbatch_sise: 8\n");
        Object[] r = run(
                "predict",
                "--config",
                conf.toString(),
                "--input",
                parquet.toString(),
                "--output",
                tmp.resolve("never-typo").toString());
        assertEquals(1, r[0]);
        assertTrue(
                ((String) r[1])
                        .contains("unknown predict config key 'batch_sise' in " + conf + ": did you mean batch_size?"),
                (String) r[1]);

        Object[] missing = run("predict", "--set", "task=sentence-embeddings");
        assertEquals(2, missing[0], "a missing required option is a usage error");
        assertTrue(((String) missing[1]).contains("missing --model: pass --model or set model"), (String) missing[1]);
    }

    @Test
    void partitionByWritesOneFolderPerValue() {
        Path out = tmp.resolve("out-partitioned");
        Object[] r = predict("sentence-embeddings", parquet, out, "--partition-by", "lang");
        assertEquals(0, r[0], (String) r[1]);
        assertTrue(Files.isDirectory(out.resolve("lang=en")) && Files.isDirectory(out.resolve("lang=fr")));
        assertEquals(2, spark.read().parquet(out.resolve("lang=en").toString()).count());

        Object[] bad = predict("sentence-embeddings", parquet, tmp.resolve("never-part"), "--partition-by", "country");
        assertEquals(1, bad[0]);
        assertTrue(((String) bad[1]).contains("--partition-by column 'country' is not in the output"), (String) bad[1]);
    }

    @Test
    void deltaOnASessionWithoutDeltasExtensionIsAClearErrorNamingTheConf() {
        Object[] r = predict("sentence-embeddings", parquet, tmp.resolve("never-delta"), "--output-format", "delta");
        assertEquals(1, r[0]);
        assertTrue(((String) r[1]).contains("the Spark session is not configured for Delta Lake"), (String) r[1]);
        assertTrue(((String) r[1]).contains("spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension"), (String)
                r[1]);
        assertFalse(Files.exists(tmp.resolve("never-delta")));
    }

    @Test
    void streamingWithoutACheckpointLocationIsAClearError() {
        Object[] r = predict("sentence-embeddings", parquet, tmp.resolve("never-stream"), "--streaming");
        assertEquals(1, r[0], (String) r[1]);
        assertTrue(((String) r[1]).contains("a streaming predict needs --checkpoint-location"), (String) r[1]);
    }

    @Test
    void theShippedConfigRuns() {
        Path shipped = Path.of("../conf/predict-embeddings.yaml");
        String out = tmp.resolve("out-shipped").toString();
        Object[] r = run(
                "predict",
                "--config",
                shipped.toString(),
                "--input",
                parquet.toString(),
                "--output",
                out,
                "--set",
                "partition_by=lang");
        assertEquals(0, r[0], (String) r[1]);
        assertTrue(Files.isDirectory(Path.of(out, "lang=fr")));
        assertEquals(
                384,
                ((org.apache.spark.ml.linalg.Vector)
                                spark.read().parquet(out).first().getAs("embedding"))
                        .size());
    }
}
