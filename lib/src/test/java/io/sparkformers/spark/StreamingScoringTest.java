package io.sparkformers.spark;

import static io.sparkformers.spark.SparkTestSupport.miniLm;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.spark.SparkConf;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stages on Structured Streaming: a folder of Parquet files read as a stream, scored, written to a Parquet or
 * Delta sink with a checkpoint; each row scored once across runs, a killed query restarted from its checkpoint.
 */
class StreamingScoringTest {
    static SparkSession spark;
    static String model;

    /** Holds the rows of one id range in their micro-batch until the test kills the query (local mode: one JVM). */
    static volatile CountDownLatch gateReached = new CountDownLatch(1);

    static volatile int gateFrom = Integer.MAX_VALUE;

    @BeforeAll
    static void start() throws Exception {
        spark = DeltaLake.configure(
                        SparkSession.builder()
                                .master("local[2]")
                                .appName("StreamingScoringTest")
                                .config("spark.ui.enabled", "false")
                                .config("spark.sql.shuffle.partitions", "4")
                                // Delta's log replay in 1 partition, not 50: tables here are a few files
                                .config("spark.databricks.delta.snapshotPartitions", "1"),
                        new SparkConf())
                .getOrCreate();
        model = miniLm();
    }

    @AfterAll
    static void stop() {
        spark.stop();
        ExecutorModels.clear();
    }

    /** Writes rows {@code from} … {@code to - 1} as one Parquet file into {@code dir}. */
    private static void addFile(Path dir, int from, int to) {
        List<Row> rows = new ArrayList<>();
        for (int i = from; i < to; i++) rows.add(RowFactory.create(i, "row " + i + " about spark streaming"));
        spark.createDataFrame(rows, SparkTestSupport.TEXTS)
                .coalesce(1)
                .write()
                .mode("append")
                .parquet(dir.toString());
    }

    private static SentenceEmbedder embedder() {
        return new SentenceEmbedder().setModel(model).setBatchSize(4);
    }

    private static Dataset<Row> stream(Path in) {
        return spark.readStream()
                .schema(SparkTestSupport.TEXTS)
                .option("maxFilesPerTrigger", 1)
                .parquet(in.toString());
    }

    /** Runs the stream until every file present has been scored. */
    private static void runAvailableNow(Dataset<Row> scored, String format, Path out, Path checkpoint)
            throws Exception {
        StreamingQuery q = scored.writeStream()
                .format(format)
                .option("checkpointLocation", checkpoint.toString())
                .trigger(Trigger.AvailableNow())
                .start(out.toString());
        q.awaitTermination();
    }

    /** id → embedding of the sink's rows, failing on a duplicate id. */
    private static Map<Integer, double[]> sink(String format, Path out) {
        Map<Integer, double[]> byId = new HashMap<>();
        for (Row r : spark.read().format(format).load(out.toString()).collectAsList()) {
            double[] prev = byId.put(r.getInt(0), ((Vector) r.getAs("embedding")).toArray());
            assertEquals(null, prev, "id " + r.getInt(0) + " written twice");
        }
        return byId;
    }

    @Test
    void eachRowIsScoredOnceAndASecondRunScoresOnlyTheNewFiles(@TempDir Path tmp) throws Exception {
        Path in = tmp.resolve("in");
        Path out = tmp.resolve("out");
        Path checkpoint = tmp.resolve("checkpoint");
        addFile(in, 0, 6);
        addFile(in, 6, 10);
        SentenceEmbedder stage = embedder();
        Dataset<Row> input = stream(in);
        Dataset<Row> scored = stage.transform(input);
        assertTrue(scored.isStreaming());
        assertEquals(stage.transformSchema(input.schema()), scored.schema());

        runAvailableNow(scored, "parquet", out, checkpoint);
        Map<Integer, double[]> first = sink("parquet", out);
        assertEquals(10, first.size());

        addFile(in, 10, 13);
        runAvailableNow(stage.transform(stream(in)), "parquet", out, checkpoint);
        Map<Integer, double[]> second = sink("parquet", out);
        assertEquals(13, second.size(), "the second run adds the new file's rows only");
        for (int id : first.keySet())
            assertArrayEquals(first.get(id), second.get(id), "row " + id + " kept as written");

        // the stream's vectors equal a batch transform of the same rows
        double worst = 0;
        for (Row r : stage.transform(spark.read().parquet(in.toString())).collectAsList()) {
            double[] batch = ((Vector) r.getAs("embedding")).toArray();
            double[] streamed = second.get(r.getInt(0));
            for (int j = 0; j < batch.length; j++) worst = Math.max(worst, Math.abs(batch[j] - streamed[j]));
        }
        assertTrue(worst <= 1e-6, "max |diff| stream vs batch = " + worst);
        assertTrue(stage.lastMetrics().rows() >= 3, stage.lastMetrics().summary());
    }

    @Test
    void aQueryKilledMidBatchRestartsFromItsCheckpointWithoutLossOrDuplicates(@TempDir Path tmp) throws Exception {
        Path in = tmp.resolve("in");
        Path out = tmp.resolve("out");
        Path checkpoint = tmp.resolve("checkpoint");
        for (int f = 0; f < 3; f++) addFile(in, f * 5, f * 5 + 5);
        UserDefinedFunction gate = functions
                .udf(
                        (UDF1<Integer, Boolean>) id -> {
                            if (id < gateFrom) return true;
                            gateReached.countDown();
                            Thread.sleep(300_000); // until the query is stopped (its tasks are interrupted)
                            return true;
                        },
                        DataTypes.BooleanType)
                .asNondeterministic();
        gateFrom = 10; // the third file's micro-batch hangs after it was scored
        gateReached = new CountDownLatch(1);
        Dataset<Row> scored = embedder().transform(stream(in));
        StreamingQuery q = scored.where(gate.apply(functions.col("id")))
                .writeStream()
                .format("parquet")
                .option("checkpointLocation", checkpoint.toString())
                .trigger(Trigger.AvailableNow())
                .start(out.toString());
        assertTrue(gateReached.await(120, TimeUnit.SECONDS), "the third micro-batch never ran");
        q.stop(); // killed in the middle of a micro-batch
        long beforeRestart = spark.read().parquet(out.toString()).count();
        assertEquals(10, beforeRestart, "the two committed micro-batches only");

        gateFrom = Integer.MAX_VALUE;
        runAvailableNow(embedder().transform(stream(in)), "parquet", out, checkpoint);
        Map<Integer, double[]> rows = sink("parquet", out);
        assertEquals(15, rows.size(), "every row once after the restart (before it: " + beforeRestart + ")");
        System.out.println("streaming restart: " + beforeRestart + " rows before the kill, " + rows.size()
                + " after the restart from the checkpoint, 0 duplicates");
    }

    @Test
    void theTokenizerAndHandleInvalidWorkOnAStreamLikeOnABatch(@TempDir Path tmp) throws Exception {
        Path in = tmp.resolve("in");
        addFile(in, 0, 4);
        spark.createDataFrame(List.of(RowFactory.create(4, "  ")), SparkTestSupport.TEXTS)
                .write()
                .mode("append")
                .parquet(in.toString());
        PipelineModel pipeline = new Pipeline()
                .setStages(new PipelineStage[] {
                    new HuggingFaceTokenizer().setModel(model).setMaxLength(64),
                    embedder().setHandleInvalid(ModelStage.SKIP)
                })
                .fit(spark.read().parquet(in.toString()));
        StreamingQuery q = pipeline.transform(stream(in))
                .writeStream()
                .format("memory")
                .queryName("tokenized")
                .option("checkpointLocation", tmp.resolve("checkpoint").toString())
                .start();
        q.processAllAvailable();
        q.stop();
        List<Row> streamed = spark.table("tokenized").orderBy("id").collectAsList();
        List<Row> batch = pipeline.transform(spark.read().parquet(in.toString()))
                .orderBy("id")
                .collectAsList();
        assertEquals(4, streamed.size(), "the blank text is skipped");
        assertEquals(batch, streamed);
    }

    @Test
    void triggersAreAvailableNowOrAnIntervalAndAnythingElseIsAClearError() {
        assertEquals(Trigger.AvailableNow(), BatchScoring.trigger("available-now"));
        assertEquals(Trigger.ProcessingTime(10_000), BatchScoring.trigger("processing-time=10s"));
        assertEquals(Trigger.ProcessingTime(500), BatchScoring.trigger("500ms"));
        assertEquals(Trigger.ProcessingTime(60_000), BatchScoring.trigger("1 minute"));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> BatchScoring.trigger("sometimes"));
        assertTrue(e.getMessage().startsWith("unknown --trigger 'sometimes': available-now"), e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> new BatchScoring.Streaming(" ", "available-now"));
        assertTrue(e.getMessage().contains("needs --checkpoint-location"), e.getMessage());
    }
}
