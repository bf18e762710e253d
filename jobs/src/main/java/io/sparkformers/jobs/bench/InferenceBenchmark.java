package io.sparkformers.jobs.bench;

import static io.sparkformers.jobs.bench.Stats.median;

import ai.djl.Device;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import io.sparkformers.spark.ModelRefs;
import io.sparkformers.spark.SentenceEmbedder;
import io.sparkformers.spark.TokenBudgetBatcher;
import io.sparkformers.spark.TokenBudgetBatcher.Batch;
import io.sparkformers.spark.TokenBudgetBatcher.Encoded;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The {@code bench inference-spark} measurement: sentence embeddings over generated rows of mixed length, through
 * {@link SentenceEmbedder} on the given session versus the bare in-process loop (HfModel directly, one thread, the
 * same token-budget batching, on the same rows); and the padding efficiency of that batching with and without
 * length sorting. Not a test: numbers depend on the machine.
 */
public final class InferenceBenchmark {
    private InferenceBenchmark() {}

    /**
     * What was measured.
     *
     * @param rows                    rows scored by each path
     * @param sparkSeconds            wall time of the Spark job (model already cached on the executors)
     * @param bareSeconds             wall time of the in-process loop
     * @param paddingEfficiencySorted real / processed tokens with length sorting (window 1024)
     * @param paddingEfficiencyUnsorted the same batching in row order
     * @param torchThreads            PyTorch intra-op threads ({@code ai.djl.pytorch.num_threads}, "default" if unset)
     * @param master                  the Spark master
     */
    public record Result(
            int rows,
            double sparkSeconds,
            double bareSeconds,
            double paddingEfficiencySorted,
            double paddingEfficiencyUnsorted,
            String torchThreads,
            String master) {
        /** Spark time over bare time: below 1 means Spark's task slots beat one in-process thread. */
        public double ratio() {
            return sparkSeconds / bareSeconds;
        }
    }

    /** Rows of 3 to ~250 words, most short, some long (seeded). */
    public static List<String> texts(int n, long seed) {
        String[] words = ("the a of to and in is was for on that with as by at from his her spark model token batch "
                        + "executor partition sentence embedding transformer attention layer vector data lake score")
                .split(" ");
        Random rnd = new Random(seed);
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int len = rnd.nextDouble() < 0.8 ? 3 + rnd.nextInt(25) : 30 + rnd.nextInt(220);
            StringBuilder sb = new StringBuilder();
            for (int w = 0; w < len; w++) sb.append(w == 0 ? "" : " ").append(words[rnd.nextInt(words.length)]);
            out.add(sb.toString());
        }
        return out;
    }

    public static Result run(
            SparkSession spark, String model, int n, int maxLength, int maxTokensPerBatch, int batchSize)
            throws Exception {
        return run(spark, model, n, maxLength, maxTokensPerBatch, batchSize, 1, null)
                .result();
    }

    /**
     * {@link #run} over {@code rounds} rounds, each timing the Spark job, the bare loop and {@code peer} (seconds for
     * the same rows, e.g. ONNX Runtime; may be null) back to back, so that on a shared machine all paths see the same
     * load; medians of each.
     *
     * @param peerSeconds median of the peer (NaN without one)
     */
    public record Rounds(Result result, double peerSeconds) {}

    public static Rounds run(
            SparkSession spark,
            String model,
            int n,
            int maxLength,
            int maxTokensPerBatch,
            int batchSize,
            int rounds,
            java.util.concurrent.Callable<Double> peer)
            throws Exception {
        List<String> texts = texts(n, 17);
        StructType schema = new StructType().add("id", DataTypes.IntegerType).add("text", DataTypes.StringType);
        List<Row> rows = new ArrayList<>(n);
        for (int i = 0; i < n; i++) rows.add(RowFactory.create(i, texts.get(i)));
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Dataset<Row> df = spark.createDataFrame(jsc.parallelize(rows, Math.max(2, jsc.defaultParallelism())), schema)
                .cache();
        df.count();
        SentenceEmbedder embedder = new SentenceEmbedder()
                .setModel(model)
                .setMaxLength(maxLength)
                .setMaxTokensPerBatch(maxTokensPerBatch)
                .setBatchSize(batchSize);
        embedder.transform(df.limit(4)).write().format("noop").mode("overwrite").save(); // warm-up: load the model

        Path dir = ModelRefs.localFolder(model);
        double[] sparkSeconds = new double[rounds];
        double[] bareSeconds = new double[rounds];
        double[] peerSeconds = new double[rounds];
        double[] efficiency = new double[2];
        try (HfModel m = HfModel.fromPretrained(HfCheckpoint.open(dir), Task.SENTENCE_EMBEDDING, Device.cpu());
                TextTokenizer tok = m.tokenizer(maxLength)) {
            for (int sorted = 0; sorted < 2; sorted++) {
                TokenBudgetBatcher b =
                        new TokenBudgetBatcher(1024, maxTokensPerBatch, batchSize, sorted == 1, tok.padTokenId());
                b.run(texts.iterator(), t -> encode(tok, t), batch -> new Object[batch.size()])
                        .forEachRemaining(x -> {});
                efficiency[sorted] = b.stats().paddingEfficiency();
            }
            for (int round = 0; round < rounds; round++) {
                long t0 = System.nanoTime();
                embedder.transform(df).write().format("noop").mode("overwrite").save();
                sparkSeconds[round] = (System.nanoTime() - t0) / 1e9;
                t0 = System.nanoTime();
                bareLoop(m, tok, texts, maxTokensPerBatch, batchSize);
                bareSeconds[round] = (System.nanoTime() - t0) / 1e9;
                peerSeconds[round] = peer == null ? Double.NaN : peer.call();
            }
        }
        df.unpersist();
        return new Rounds(
                new Result(
                        n,
                        median(sparkSeconds),
                        median(bareSeconds),
                        efficiency[1],
                        efficiency[0],
                        System.getProperty("ai.djl.pytorch.num_threads", "default"),
                        spark.sparkContext().master()),
                median(peerSeconds));
    }

    private static void bareLoop(
            HfModel m, TextTokenizer tok, List<String> texts, int maxTokensPerBatch, int batchSize) {
        TokenBudgetBatcher b = new TokenBudgetBatcher(1024, maxTokensPerBatch, batchSize, true, tok.padTokenId());
        b.run(texts.iterator(), t -> encode(tok, t), batch -> {
                    try (NDManager scope = m.manager().newSubManager()) {
                        float[] flat = m.predict(inputs(scope, batch)).head().toFloatArray(); // (B, H)
                        int h = flat.length / batch.size();
                        Object[] out = new Object[batch.size()];
                        for (int r = 0; r < out.length; r++)
                            out[r] = java.util.Arrays.copyOfRange(flat, r * h, (r + 1) * h);
                        return out;
                    }
                })
                .forEachRemaining(x -> {});
    }

    /** (B, T) input_ids, attention_mask, token_type_ids of a batch: what the stages feed the model. */
    private static NDList inputs(NDManager scope, Batch b) {
        Shape shape = new Shape(b.size(), b.seqLength());
        return new NDList(
                scope.create(b.inputIds(), shape),
                scope.create(b.attentionMask(), shape),
                scope.create(b.tokenTypeIds(), shape));
    }

    private static Encoded encode(TextTokenizer tok, String text) {
        var e = tok.encode(text);
        return new Encoded(e.getIds(), e.getAttentionMask(), e.getTypeIds(), null);
    }
}
