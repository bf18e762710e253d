package io.sparkformers.spark;

import static io.sparkformers.spark.SparkTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.Task;
import io.sparkformers.pipeline.TinyCheckpoints;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * A PipelineModel saved by one Spark line loads and scores on another: the committed fixtures under
 * src/test/fixtures/spark-lines/spark{line}_{scala} were saved by the oldest (3.5 / Scala 2.12) and the newest (4.2 /
 * Scala 2.13) line, each with the rows it scored when it saved them; every line loads both and scores the same rows.
 * A fixture is (re)written by {@code -Dsparkformers.writeLineFixture=true -Dtest=CrossLinePipelineTest} on its line.
 */
@Tag("smoke")
class CrossLinePipelineTest {
    static final Path FIXTURES = Path.of("src", "test", "fixtures", "spark-lines");
    static final List<String> REQUIRED = List.of("spark3.5_2.12", "spark4.2_2.13");

    static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = local("CrossLinePipelineTest");
    }

    @AfterAll
    static void stop() {
        spark.stop();
        ExecutorModels.clear();
    }

    /** spark{major.minor}_{scala binary}: the line of the running session. */
    static String line() {
        String[] v = spark.version().split("\\.");
        String[] s = scala.util.Properties.versionNumberString().split("\\.");
        return "spark" + v[0] + "." + v[1] + "_" + s[0] + "." + s[1];
    }

    private static Dataset<Row> input() {
        return frame(spark, mixedTexts(8), 2);
    }

    private static List<JsonNode> scored(PipelineModel model) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String json : model.transform(input()).orderBy("id").toJSON().collectAsList())
            out.add(Json.MAPPER.readTree(json));
        return out;
    }

    @Test
    void pipelinesSavedByTheOldestAndTheNewestLineLoadAndScoreHere() throws Exception {
        for (String name : REQUIRED)
            assertTrue(Files.isDirectory(FIXTURES.resolve(name)), "missing fixture " + FIXTURES.resolve(name));
        List<Path> dirs;
        try (Stream<Path> s = Files.list(FIXTURES)) {
            dirs = s.filter(Files::isDirectory).sorted().toList();
        }
        for (Path dir : dirs) {
            PipelineModel loaded = PipelineModel.load(dir.resolve("pipeline").toString());
            assertEquals(2, loaded.stages().length, dir.toString());
            TextClassificationModel cls = (TextClassificationModel) loaded.stages()[0];
            assertEquals(3, cls.getTopK());
            assertEquals("sigmoid", cls.getFunctionToApply());
            List<JsonNode> expected = new ArrayList<>();
            for (String l : Files.readAllLines(dir.resolve("expected.jsonl"))) expected.add(Json.MAPPER.readTree(l));
            List<JsonNode> actual = scored(loaded);
            assertEquals(expected.size(), actual.size(), dir.toString());
            for (int i = 0; i < expected.size(); i++)
                assertSame(expected.get(i), actual.get(i), dir.getFileName() + " on " + line() + ", row " + i);
        }
    }

    /** Equal JSON, numbers within 1e-5 (the saving line's float formatting may differ in the last digits). */
    static void assertSame(JsonNode want, JsonNode got, String where) {
        if (want.isNumber() && got.isNumber()) {
            assertEquals(want.asDouble(), got.asDouble(), 1e-5, where);
        } else if (want.isContainerNode()) {
            assertEquals(want.size(), got.size(), where + ": " + want + " vs " + got);
            if (want.isArray()) {
                for (int i = 0; i < want.size(); i++) assertSame(want.get(i), got.get(i), where + "[" + i + "]");
            } else {
                var names = want.fieldNames();
                while (names.hasNext()) {
                    String n = names.next();
                    assertTrue(got.has(n), where + ": no field " + n + " in " + got);
                    assertSame(want.get(n), got.get(n), where + "." + n);
                }
            }
        } else {
            assertEquals(want, got, where);
        }
    }

    /** Writes this line's fixture: a text classifier (logits that depend on the input) and an MLlib SQLTransformer, saved. */
    @Test
    @EnabledIfSystemProperty(named = "sparkformers.writeLineFixture", matches = "true")
    void writeThisLinesFixture(@org.junit.jupiter.api.io.TempDir Path work) throws Exception {
        Path dir = FIXTURES.resolve(line());
        Path sentiment = TinyCheckpoints.write(
                work.resolve("sentiment"),
                Task.SEQUENCE_CLASSIFICATION,
                TinyCheckpoints.config(Map.of(0, "NEGATIVE", 1, "NEUTRAL", 2, "POSITIVE"), null),
                "classifier",
                new float[] {0.3f, -0.2f, 0.1f},
                Optional.empty(),
                1f);
        PipelineModel model = new org.apache.spark.ml.Pipeline()
                .setStages(new PipelineStage[] {
                    new TextClassificationModel()
                            .setModel(sentiment.toString())
                            .setTopK(3)
                            .setFunctionToApply("sigmoid"),
                    new org.apache.spark.ml.feature.SQLTransformer()
                            .setStatement("SELECT *, length(text) AS chars FROM __THIS__")
                })
                .fit(input());
        model.write().overwrite().save(dir.resolve("pipeline").toString());
        List<String> lines = new ArrayList<>();
        for (JsonNode n : scored(model)) lines.add(n.toString());
        Files.write(dir.resolve("expected.jsonl"), lines);
    }
}
