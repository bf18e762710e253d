package io.sparkformers.spark;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link TokenClassifier} in local[2]: a 2-worker NER fit on the tiny BERT, the fitted model, and the row checks. */
class TokenClassifierTest {
    static SparkSession spark;
    static Path tiny;

    @TempDir
    static Path shared;

    @TempDir
    Path tmp;

    static final StructType SCHEMA = new StructType()
            .add("tokens", DataTypes.createArrayType(DataTypes.StringType), true)
            .add("tags", DataTypes.createArrayType(DataTypes.StringType), true);

    @BeforeAll
    static void start() throws Exception {
        spark = TrainingFixtures.trainingSession("TokenClassifierTest");
        tiny = TrainingFixtures.tinyBertWithoutDropout(shared.resolve("tiny"));
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
    }

    private static Row row(String words, String tags) {
        return RowFactory.create(List.of(words.split(" ")), List.of(tags.split(" ")));
    }

    private static Dataset<Row> ner() {
        String[][] people = {{"John", "Smith"}, {"Mary", "Jones"}, {"Alice", "Brown"}, {"Bob", "Stone"}};
        List<Row> rows = new ArrayList<>();
        for (String[] p : people) {
            rows.add(row(p[0] + " " + p[1] + " went home", "B-PER I-PER O O"));
            rows.add(row("yesterday " + p[0] + " called", "O B-PER O"));
        }
        return spark.createDataFrame(rows, SCHEMA);
    }

    private TokenClassifier classifier(String out) {
        return new TokenClassifier()
                .setModel(tiny.toString())
                .setOutputDir(out)
                .setNumWorkers(2)
                .setPerDeviceTrainBatchSize(2)
                .setMaxSteps(3)
                .setLearningRate(1e-3)
                .setMaxLength(32)
                .setSaveStrategy("no")
                .setLoggingSteps(1);
    }

    @Test
    void fitsOnTwoWorkersAndTheModelTagsText() throws Exception {
        String out = tmp.resolve("ner").toString();
        TokenClassifier est = classifier(out);
        TokenClassifier.FitResult fit = est.fitWithSummary(ner());
        assertEquals(2, fit.summary().workers().size());

        JsonNode config =
                new ObjectMapper().readTree(Path.of(out, "config.json").toFile());
        Set<String> tags = new TreeSet<>();
        config.get("id2label").elements().forEachRemaining(n -> tags.add(n.asText()));
        assertEquals(Set.of("B-PER", "I-PER", "O"), tags, "id2label is the tag set: " + config.get("id2label"));

        TokenClassificationModel model = fit.model();
        assertEquals("text", model.getInputCol());
        assertEquals(est.uid(), model.uid());
        assertSame(est, model.parent());
        Dataset<Row> texts = spark.createDataFrame(
                List.of(RowFactory.create("John Smith went home"), RowFactory.create("yesterday Mary called")),
                new StructType().add("text", DataTypes.StringType));
        Dataset<Row> scored = model.transform(texts);
        assertEquals(
                DataTypes.createArrayType(TokenClassificationModel.ENTITY, false),
                scored.schema().apply("entities").dataType());
        List<Row> got = scored.collectAsList();
        assertEquals(2, got.size());
        System.out.println("token classifier: " + fit.summary().trainMetrics() + " → " + got);
    }

    @Test
    void schemaAndRowErrorsComeBeforeTraining() {
        TokenClassifier est = classifier(tmp.resolve("bad").toString());
        Dataset<Row> strings = spark.createDataFrame(
                List.of(RowFactory.create("John Smith", "B-PER I-PER")),
                new StructType().add("tokens", DataTypes.StringType).add("tags", DataTypes.StringType));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> est.fit(strings));
        assertTrue(e.getMessage().contains("tokensCol 'tokens' must be array<string> but got string"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> est.copy(org.apache.spark.ml.param.ParamMap.empty())
                        .setTagsCol("labels")
                        .transformSchema(SCHEMA));
        assertTrue(e.getMessage().contains("tagsCol 'labels' is not a column"), e.getMessage());

        Dataset<Row> mismatched = spark.createDataFrame(
                List.of(row("John Smith went", "B-PER I-PER O"), row("Mary Jones", "B-PER")), SCHEMA);
        e = assertThrows(IllegalArgumentException.class, () -> est.fit(mismatched));
        assertTrue(
                e.getMessage().contains("[Mary, Jones]") && e.getMessage().contains("2 words but 1 tags"),
                e.getMessage());
    }
}
