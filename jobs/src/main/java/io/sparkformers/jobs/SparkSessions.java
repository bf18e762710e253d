package io.sparkformers.jobs;

import io.sparkformers.spark.DeltaLake;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** The session of a Spark command: spark-submit's master, else {@code local[2]}; stopped only if the command made it. */
final class SparkSessions {
    private SparkSessions() {}

    /** A session and whether the caller owns it (must stop it). */
    record Owned(SparkSession spark, boolean owned) implements AutoCloseable {
        @Override
        public void close() {
            if (owned) spark.stop();
        }
    }

    static Owned open(String app) {
        var existing = SparkSession.getActiveSession();
        if (existing.isEmpty()) existing = SparkSession.getDefaultSession();
        if (existing.isDefined()) return new Owned(existing.get(), false);
        SparkSession.Builder b = SparkSession.builder().appName(app);
        if (!new SparkConf().contains("spark.master")) b = b.master("local[2]");
        b = DeltaLake.configure(b, new SparkConf()); // Delta's extension and catalog when Delta is on the classpath
        return new Owned(b.getOrCreate(), true);
    }
}
