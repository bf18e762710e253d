package io.sparkformers.spark;

import org.apache.spark.ml.param.Params;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsReader$;
import org.apache.spark.ml.util.DefaultParamsWriter$;
import org.apache.spark.sql.SparkSession;

/**
 * The Spark API calls that differ between Spark lines, for Spark 4.x (this file; src/main/spark-3 holds the Spark 3.5
 * twin, the pom picks one by {@code spark.major}): MLlib's Params metadata is read and written through the
 * SparkSession (Spark 4 deprecated, then dropped, the SparkContext forms that Spark 3.5 alone has).
 */
final class SparkLine {
    private SparkLine() {}

    static DefaultParamsReader.Metadata loadMetadata(String path, SparkSession spark, String className) {
        return DefaultParamsReader$.MODULE$.loadMetadata(path, spark, className);
    }

    static void saveMetadata(Params stage, String path, SparkSession spark) {
        DefaultParamsWriter$.MODULE$.saveMetadata(stage, path, spark);
    }
}
