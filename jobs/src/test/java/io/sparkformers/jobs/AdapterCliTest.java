package io.sparkformers.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --adapter} on {@code pipeline} and {@code predict}: the PEFT adapter of lib's {@code make_lora_references.py}
 * (its adapter_config.json names the base {@code all-MiniLM-L6-v2}, a built-in alias) scores with peft's logits,
 * with the base taken from the adapter when {@code --model} is absent.
 */
class AdapterCliTest {
    private static final Path LORA = Path.of("../lib/src/test/resources/lora");
    private static final Path ADAPTER = LORA.resolve("adapter");

    @Test
    void pipelineWithOnlyAnAdapterLoadsItsNamedBaseAndGivesPeftsLogits() throws Exception {
        JsonNode refs = Json.MAPPER.readTree(LORA.resolve("references.json").toFile());
        List<String> args = new ArrayList<>(List.of(
                "pipeline",
                "text-classification",
                "--adapter",
                ADAPTER.toString(),
                "--function-to-apply",
                "none",
                "--top-k",
                "all",
                "--json"));
        refs.get("texts").forEach(t -> args.addAll(List.of("--text", t.asText())));
        CliRun r = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.err());
        JsonNode out = Json.MAPPER.readTree(r.out());
        double worst = 0;
        for (int i = 0; i < out.size(); i++) {
            for (JsonNode l : out.get(i)) {
                int j = Integer.parseInt(l.get("label").asText().substring("LABEL_".length()));
                double e = refs.get("adapter_logits").get(i).get(j).asDouble();
                worst = Math.max(worst, Math.abs(l.get("score").asDouble() - e) / Math.max(Math.abs(e), 1e-3));
            }
        }
        assertEquals(3, out.size());
        assertTrue(worst <= 1e-4, "max relative |diff| vs peft = " + worst);
    }

    @Test
    void predictWithAnAdapterWritesPeftsLogits(@TempDir Path tmp) throws Exception {
        Path in = writeInput(tmp);
        Path out = tmp.resolve("out");
        CliRun r = CliRun.of(
                "predict",
                "--task",
                "text-classification",
                "--model",
                "all-MiniLM-L6-v2",
                "--adapter",
                ADAPTER.toString(),
                "--function-to-apply",
                "none",
                "--probabilities-col",
                "logits",
                "--output-type",
                "array",
                "--input",
                in.toString(),
                "--output",
                out.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertPeftsLogits(out);
    }

    /** The {@code adapter:} key of a {@code --config} file, with no model key: the base comes from the adapter. */
    @Test
    void predictConfigWithOnlyAnAdapterKeyLoadsItsNamedBaseAndWritesPeftsLogits(@TempDir Path tmp) throws Exception {
        Path in = writeInput(tmp);
        Path out = tmp.resolve("out");
        Path conf = tmp.resolve("predict.yaml");
        Files.writeString(
                conf,
                "task: text-classification\nadapter: "
                        + ADAPTER.toAbsolutePath().normalize() + "\ninput: " + in
                        + "\noutput: " + out + "\nfunction_to_apply: none\nprobabilities_col: logits\n"
                        + "output_type: array\n");
        CliRun r = CliRun.of("predict", "--config", conf.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertPeftsLogits(out);
    }

    private static Path writeInput(Path tmp) throws Exception {
        JsonNode refs = Json.MAPPER.readTree(LORA.resolve("references.json").toFile());
        Path in = tmp.resolve("in.jsonl");
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < refs.get("texts").size(); i++) {
            lines.append(Json.MAPPER
                            .createObjectNode()
                            .put("id", i)
                            .put("text", refs.get("texts").get(i).asText()))
                    .append('\n');
        }
        Files.writeString(in, lines);
        return in;
    }

    private static void assertPeftsLogits(Path out) throws Exception {
        JsonNode refs = Json.MAPPER.readTree(LORA.resolve("references.json").toFile());
        SparkSession spark = SparkSession.builder()
                .master("local[1]")
                .appName("AdapterCliTest")
                .config("spark.ui.enabled", "false")
                .getOrCreate();
        try {
            List<Row> rows = spark.read().parquet(out.toString()).orderBy("id").collectAsList();
            assertEquals(3, rows.size());
            double worst = 0;
            for (int i = 0; i < 3; i++) {
                List<Float> got = rows.get(i).getList(rows.get(i).fieldIndex("logits"));
                for (int j = 0; j < 2; j++) {
                    double e = refs.get("adapter_logits").get(i).get(j).asDouble();
                    worst = Math.max(worst, Math.abs(got.get(j) - e) / Math.max(Math.abs(e), 1e-3));
                }
            }
            assertTrue(worst <= 1e-4, "max relative |diff| vs peft = " + worst);
        } finally {
            spark.stop();
        }
    }
}
