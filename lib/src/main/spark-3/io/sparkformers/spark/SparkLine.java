package io.sparkformers.spark;

import org.apache.spark.ml.param.Params;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsReader$;
import org.apache.spark.ml.util.DefaultParamsWriter$;
import org.apache.spark.sql.SparkSession;

/**
 * The Spark API calls that differ between Spark lines, for Spark 3.5 (this file; src/main/spark-4 holds the Spark 4.x
 * twin, the pom picks one by {@code spark.major}): MLlib's Params metadata is read and written through the
 * SparkContext, the only form Spark 3.5 has.
 */
final class SparkLine {
    private SparkLine() {}

    static DefaultParamsReader.Metadata loadMetadata(String path, SparkSession spark, String className) {
        return DefaultParamsReader$.MODULE$.loadMetadata(path, spark.sparkContext(), className);
    }

    static void saveMetadata(Params stage, String path, SparkSession spark) {
        DefaultParamsWriter$.MODULE$.saveMetadata(stage, path, spark.sparkContext(), scala.Option.empty(), scala.Option.empty());
    }
}
