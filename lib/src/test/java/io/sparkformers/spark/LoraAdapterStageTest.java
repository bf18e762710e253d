package io.sparkformers.spark;

import static io.sparkformers.spark.SparkTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.Json;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A scoring stage's {@code adapterPath}: executors load the PEFT adapter of {@code make_lora_references.py} onto the
 * real all-MiniLM-L6-v2 and merge it, so the stage's logits equal peft's ({@code lora/references.json}); a bad
 * adapter reference and an image stage with one fail on the driver, naming the Param.
 */
class LoraAdapterStageTest {
    private static final Path DIR = Path.of("src/test/resources/lora");
    private static final Path ADAPTER = DIR.resolve("adapter");

    static SparkSession spark;
    static JsonNode refs;

    @BeforeAll
    static void start() throws Exception {
        spark = local("LoraAdapterStageTest");
        refs = Json.MAPPER.readTree(DIR.resolve("references.json").toFile());
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void executorsMergeTheAdapterAndScoreWithPeftsLogits() throws Exception {
        List<String> texts = new ArrayList<>();
        refs.get("texts").forEach(t -> texts.add(t.asText()));
        TextClassificationModel stage = new TextClassificationModel()
                .setModel(miniLm())
                .setAdapterPath(ADAPTER.toString())
                .setFunctionToApply("none")
                .setProbabilitiesCol("logits")
                .setProbabilitiesType("array");
        List<Row> rows = stage.transform(frame(spark, texts, 2)).orderBy("id").collectAsList();
        double worst = 0;
        for (int i = 0; i < texts.size(); i++) {
            List<Float> got = rows.get(i).getList(rows.get(i).fieldIndex("logits"));
            for (int j = 0; j < 2; j++) {
                double e = refs.get("adapter_logits").get(i).get(j).asDouble();
                worst = Math.max(worst, Math.abs(got.get(j) - e) / Math.max(Math.abs(e), 1e-3));
            }
        }
        assertTrue(worst <= 1e-4, "max relative |diff| vs peft = " + worst);
    }

    @Test
    void aMissingAdapterFailsBeforeAnyJobNamingTheParam() throws Exception {
        TextClassificationModel stage =
                new TextClassificationModel().setModel(miniLm()).setAdapterPath("no/such/adapter");
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> stage.transform(frame(spark, List.of("a text"), 1)));
        assertTrue(e.getMessage().contains("adapterPath 'no/such/adapter' is not a folder"), e.getMessage());

        stage.setAdapterPath(DIR.toString()); // a folder, but no adapter_config.json
        e = assertThrows(IllegalArgumentException.class, () -> stage.transform(frame(spark, List.of("a text"), 1)));
        assertTrue(e.getMessage().contains("holds no adapter_config.json"), e.getMessage());
    }

    @Test
    void imageStagesRefuseAnAdapter() {
        ImageClassificationModel stage =
                new ImageClassificationModel().setModel("some/folder").setAdapterPath(ADAPTER.toString());
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> stage.transformSchema(new org.apache.spark.sql.types.StructType()));
        assertTrue(e.getMessage().contains("LoRA adapters load onto text models only"), e.getMessage());
    }
}
