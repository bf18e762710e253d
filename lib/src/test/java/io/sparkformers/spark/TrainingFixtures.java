package io.sparkformers.spark;

import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.safetensors.SafetensorsCheckpoint;
import io.sparkformers.safetensors.Tensor;
import io.sparkformers.train.TinyBert;
import java.io.IOException;
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

/** Training fixtures for the Estimator tests: a tiny BERT without dropout, toy sentiment rows, weight comparison. */
final class TrainingFixtures {
    private TrainingFixtures() {}

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
        var rdd = JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, partitions);
        return spark.createDataFrame(rdd, LABELLED);
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
