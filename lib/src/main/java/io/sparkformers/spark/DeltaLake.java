package io.sparkformers.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * Delta Lake as a table format of the jobs: Delta comes with the cluster like Spark (or with spark-submit's
 * {@code --packages io.delta:delta-spark_2.13:}{@value #VERSION}); its path-based reads and writes need the session
 * built with Delta's SQL extension and catalog. This class sets them on a session the jobs build themselves, and
 * checks a given session before any Delta job, with a message naming what to add.
 */
public final class DeltaLake {
    private DeltaLake() {}

    /** The delta-spark release built against this Spark line (4.2), the one the tests run. */
    public static final String VERSION = "4.4.0";

    static final String EXTENSION = "io.delta.sql.DeltaSparkSessionExtension";
    static final String CATALOG = "org.apache.spark.sql.delta.catalog.DeltaCatalog";
    static final String EXTENSIONS_KEY = "spark.sql.extensions";
    static final String CATALOG_KEY = "spark.sql.catalog.spark_catalog";

    /** Whether Delta's classes are on the classpath. */
    public static boolean onClasspath() {
        try {
            Class.forName(EXTENSION, false, DeltaLake.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    /**
     * Adds Delta's extension and catalog to a session being built, when Delta is on the classpath and neither was set
     * (in {@code conf}, e.g. by spark-submit's {@code --conf}); otherwise returns the builder as it is.
     */
    public static SparkSession.Builder configure(SparkSession.Builder builder, SparkConf conf) {
        if (!onClasspath() || conf.contains(EXTENSIONS_KEY) || conf.contains(CATALOG_KEY)) return builder;
        return builder.config(EXTENSIONS_KEY, EXTENSION).config(CATALOG_KEY, CATALOG);
    }

    /** Fails unless {@code spark} can read and write Delta; {@code what} names the option asking for it. */
    public static void require(SparkSession spark, String what) {
        if (!onClasspath()) {
            throw new IllegalArgumentException("Delta Lake is not on the classpath (" + what + "): add it with "
                    + "spark-submit --packages io.delta:delta-spark_2.13:" + VERSION + " (the release for Spark 4.2)");
        }
        if (!spark.conf().get(EXTENSIONS_KEY, "").contains(EXTENSION)) {
            throw new IllegalArgumentException("the Spark session is not configured for Delta Lake (" + what + "): "
                    + "pass --conf " + EXTENSIONS_KEY + "=" + EXTENSION + " --conf " + CATALOG_KEY + "=" + CATALOG);
        }
    }
}
