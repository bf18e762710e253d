package io.sparkformers.spark;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.Json;
import io.sparkformers.safetensors.SafetensorsCheckpoint;
import io.sparkformers.safetensors.Tensor;
import io.sparkformers.train.TinyBert;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Training fixtures for the Estimator tests: their Spark session, tiny BERT, GPT-2 and BART checkpoints without
 * dropout, toy sentiment rows, the language-model trainers' common settings, weight comparison.
 */
final class TrainingFixtures {
    private TrainingFixtures() {}

    /**
     * The Estimator tests' session builder: {@code local[2]} (two replicas in one JVM), and a barrier stage that cannot
     * get its slots fails at the first check instead of retrying; callers add their own settings, then
     * {@code getOrCreate()}.
     */
    static SparkSession.Builder trainingSessionBuilder(String app) {
        return SparkSession.builder()
                .master("local[2]")
                .appName(app)
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.scheduler.barrier.maxConcurrentTasksCheck.maxFailures", "1");
    }

    /** {@link #trainingSessionBuilder} as is. */
    static SparkSession trainingSession(String app) {
        return trainingSessionBuilder(app).getOrCreate();
    }

    /** {@code rows} as a frame of {@code schema} in {@code partitions} partitions, in order. */
    static Dataset<Row> frame(SparkSession spark, List<Row> rows, StructType schema, int partitions) {
        var rdd = JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, partitions);
        return spark.createDataFrame(rdd, schema);
    }

    static final StructType LABELLED = new StructType()
            .add("text", DataTypes.StringType, true)
            .add("label", DataTypes.StringType, true)
            .add("isEval", DataTypes.BooleanType, false);

    /**
     * A seeded 2-layer BERT base checkpoint with MiniLM's tokenizer and every dropout rate 0, so a micro-batch's
     * gradient does not depend on which dropout seed (hence which micro-batch split) produced it.
     */
    static Path tinyBertWithoutDropout(Path dir) throws IOException {
        return TinyBert.create(dir, false);
    }

    /** The seeded tiny GPT-2 ({@code generation/gpt2-tiny}) copied to {@code dir} with every dropout rate 0. */
    static Path tinyGpt2WithoutDropout(Path dir) throws IOException {
        return withoutDropout("generation/gpt2-tiny", dir, "attn_pdrop", "embd_pdrop", "resid_pdrop");
    }

    /** The seeded tiny BART ({@code seq2seq/bart-tiny}) copied to {@code dir} with every dropout rate 0. */
    static Path tinyBartWithoutDropout(Path dir) throws IOException {
        return withoutDropout("seq2seq/bart-tiny", dir, "dropout", "attention_dropout", "activation_dropout");
    }

    /** The test resource folder {@code resource} copied to {@code dir}, the config.json keys {@code rates} set to 0. */
    private static Path withoutDropout(String resource, Path dir, String... rates) throws IOException {
        Files.createDirectories(dir);
        try (var files = Files.list(Path.of("src/test/resources", resource))) {
            for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()));
        }
        ObjectNode config = Json.readObject(dir.resolve("config.json"));
        for (String k : rates) config.put(k, 0.0);
        Files.writeString(dir.resolve("config.json"), Json.MAPPER.writeValueAsString(config));
        return dir;
    }

    /**
     * The language-model trainers' common test run: {@code workers} replicas with per-device batch 2 and
     * {@code 2 / workers} accumulation steps (so 1 and 2 replicas see the same 4 rows per step), 3 steps, no
     * evaluation and no intermediate checkpoints; callers set the learning rate, the length and what they test.
     */
    static <S extends LanguageModelingEstimator<S, ?>> S languageModel(S t, Path model, String out, int workers) {
        return t.setModel(model.toString())
                .setOutputDir(out)
                .setNumWorkers(workers)
                .setPerDeviceTrainBatchSize(2)
                .setGradientAccumulationSteps(2 / workers)
                .setMaxSteps(3)
                .setEvalStrategy("no")
                .setSaveStrategy("no");
    }

    private static final String[] GOOD = {"great", "wonderful", "good", "lovely", "excellent", "fine"};
    private static final String[] BAD = {"awful", "terrible", "bad", "horrible", "poor", "dreadful"};
    private static final String[] NOUN = {"movie", "film", "show", "book", "song", "meal", "day"};

    /** {@code n} toy sentiment rows (pos/neg), the last {@code eval} of them flagged for evaluation. */
    static Dataset<Row> sentiment(SparkSession spark, int n, int eval, int partitions) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            boolean pos = i % 2 == 0;
            String adj = (pos ? GOOD : BAD)[(i / 2) % GOOD.length];
            String noun = NOUN[(i / 3) % NOUN.length];
            rows.add(RowFactory.create(
                    "the " + noun + " was " + adj + (i % 5 == 0 ? " and i saw it twice" : ""),
                    pos ? "pos" : "neg",
                    i >= n - eval));
        }
        return frame(spark, rows, LABELLED, partitions);
    }

    static Map<String, Tensor> weights(String dir) throws IOException {
        try (SafetensorsCheckpoint w =
                HfCheckpoint.open(Path.of(dir.replaceFirst("^file:", ""))).openWeights()) {
            return w.readAll();
        }
    }

    static double maxAbsDiff(Map<String, Tensor> a, Map<String, Tensor> b) {
        if (!a.keySet().equals(b.keySet())) return Double.POSITIVE_INFINITY;
        double max = 0;
        for (String k : a.keySet()) {
            float[] x = a.get(k).toFloatArray();
            float[] y = b.get(k).toFloatArray();
            for (int i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - y[i]));
        }
        return max;
    }
}
