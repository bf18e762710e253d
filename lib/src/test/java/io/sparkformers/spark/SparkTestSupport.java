package io.sparkformers.spark;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.sparkformers.convert.BuiltinModels;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.hub.TokenBatch;
import io.sparkformers.nn.HfModel;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** Shared set-up of the Spark tests: sessions, the real model, texts, the plain-Java reference. */
final class SparkTestSupport {
    private SparkTestSupport() {}

    static final StructType TEXTS =
            new StructType().add("id", DataTypes.IntegerType, false).add("text", DataTypes.StringType, true);

    static SparkSession local(String app) {
        return SparkSession.builder()
                .master("local[2]")
                .appName(app)
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .getOrCreate();
    }

    /** all-MiniLM-L6-v2's checkpoint folder (imported into the test home on first use). */
    static String miniLm() throws IOException {
        return BuiltinModels.resolve(BuiltinModels.get("all-MiniLM-L6-v2")).toString();
    }

    /** Texts of mixed length, from 2 to ~200 words. */
    static List<String> mixedTexts(int n) {
        String[] words =
                "the quick brown fox jumps over a lazy dog while spark executors score sentences in batches".split(" ");
        java.util.Random rnd = new java.util.Random(42);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int len = 2 + (i % 5 == 0 ? rnd.nextInt(200) : rnd.nextInt(20));
            StringBuilder sb = new StringBuilder("row " + i);
            for (int w = 0; w < len; w++) sb.append(' ').append(words[rnd.nextInt(words.length)]);
            out.add(sb.toString());
        }
        return out;
    }

    /** (id, text) rows in {@code partitions} partitions, ids in order. */
    static Dataset<Row> frame(SparkSession spark, List<String> texts, int partitions) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) rows.add(RowFactory.create(i, texts.get(i)));
        var rdd = JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, partitions);
        return spark.createDataFrame(rdd, TEXTS);
    }

    /** The plain-Java path: HfModel.predict on one padded batch of all texts; first output as rows of floats. */
    static float[][] direct(HfModel model, TextTokenizer tokenizer, List<String> texts) {
        TokenBatch b = tokenizer.encodeBatch(texts, null);
        try (NDManager scope = model.manager().newSubManager()) {
            Shape s = new Shape(b.batchSize(), b.seqLength());
            float[] flat = model.predict(new NDList(
                            scope.create(b.inputIds(), s),
                            scope.create(b.attentionMask(), s),
                            scope.create(b.tokenTypeIds(), s)))
                    .head()
                    .toFloatArray();
            int h = flat.length / texts.size();
            float[][] out = new float[texts.size()][];
            for (int i = 0; i < out.length; i++) out[i] = java.util.Arrays.copyOfRange(flat, i * h, (i + 1) * h);
            return out;
        }
    }

    static double maxAbsDiff(float[] a, double[] b) {
        if (a.length != b.length) return Double.POSITIVE_INFINITY;
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    static double cosine(double[] a, double[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }
}
