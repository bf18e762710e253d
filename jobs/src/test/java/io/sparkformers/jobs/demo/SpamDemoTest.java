package io.sparkformers.jobs.demo;

import static org.junit.jupiter.api.Assertions.*;

import io.sparkformers.hub.HfCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo's whole path on a small subset in local[2] (the full-size run, F1 ≥ 0.9 in under 15 minutes, is
 * {@code bin/sparkformers demo}; its numbers are in the README): data and model fetched, 2 workers trained,
 * held-out split scored to Parquet, report and curve written.
 */
class SpamDemoTest {
    static SparkSession spark;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        spark = SparkSession.builder()
                .master("local[2]")
                .appName("SpamDemoTest")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .getOrCreate();
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void demoTrainsScoresAndReportsOnASubset() throws Exception {
        SpamDemo.Options d = SpamDemo.Options.defaults(tmp.resolve("demo"));
        SpamDemo.Options o = new SpamDemo.Options(d.output(), d.model(), 64, 32, 48, 1.0, 2, 8, 2e-4, 42);
        SpamDemo.Summary s = SpamDemo.run(spark, o);

        assertEquals(32, (int) s.scoredRows());
        assertEquals(32, spark.read().parquet(s.scored().toString()).count(), "every held-out row is scored");
        assertTrue(spark.read().parquet(s.scored().toString()).columns().length >= 4, "input columns pass through");
        assertTrue(
                s.before().containsKey("eval_f1") && s.after().containsKey("eval_f1"),
                s.after().toString());
        assertTrue(
                s.after().get("eval_loss") < s.before().get("eval_loss"),
                "training lowers the held-out loss: " + s.before() + " -> " + s.after());
        HfCheckpoint model = HfCheckpoint.open(s.modelDir());
        assertEquals("spam", model.config().get("id2label").get("1").asText());
        String report = Files.readString(s.report());
        assertTrue(report.contains("| accuracy |") && report.contains("training_curves.png"), report);
        assertTrue(Files.size(s.curves()) > 1000, "training curve PNG written");
    }
}
