package io.sparkformers.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code pipeline text-generation} and {@code predict --task text-generation} on the tiny GPT-2 of lib's generation
 * references: the texts transformers generates, through the command line.
 */
class TextGenerationCliTest {
    static final Path GENERATION = Path.of("..", "lib", "src", "test", "resources", "generation");

    @TempDir
    static Path tmp;

    static JsonNode greedyBatch;
    static List<String> prompts = new ArrayList<>();

    @BeforeAll
    static void references() throws Exception {
        System.setProperty("ai.djl.offline", "true");
        for (JsonNode c : Json.MAPPER
                .readTree(GENERATION.resolve("references.json").toFile())
                .get("generate")) {
            if (c.get("name").asText().equals("greedy_batch")) greedyBatch = c;
        }
        greedyBatch.get("prompts").forEach(p -> prompts.add(p.asText()));
    }

    @Test
    void pipelineTextGenerationPrintsHfOutputWithTransformersTexts() throws Exception {
        List<String> args = new ArrayList<>(List.of(
                "pipeline",
                "text-generation",
                "--json",
                "--model",
                GENERATION.resolve("gpt2-tiny").toString(),
                "--max-new-tokens",
                "12",
                "--batch-size",
                "3"));
        for (String p : prompts) args.addAll(List.of("--text", p));
        CliRun r = CliRun.of(args.toArray(new String[0]));
        assertEquals(0, r.exitCode(), r.err());
        JsonNode out = Json.MAPPER.readTree(r.out());
        for (int i = 0; i < prompts.size(); i++) {
            assertEquals(
                    greedyBatch.get("texts").get(i).asText(),
                    out.get(i).get(0).get("generated_text").asText());
        }
    }

    @Test
    void predictTextGenerationWritesTheGeneratedTextColumn() throws Exception {
        Path input = tmp.resolve("prompts.json");
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < prompts.size(); i++) {
            lines.append(Json.MAPPER.createObjectNode().put("id", i).put("text", prompts.get(i)))
                    .append('\n');
        }
        Files.writeString(input, lines);
        // predict has no generation flags: the checkpoint's generation_config.json says max_new_tokens
        Path model = Files.createDirectories(tmp.resolve("gpt2-12"));
        try (var files = Files.list(GENERATION.resolve("gpt2-tiny"))) {
            for (Path f : files.toList()) Files.copy(f, model.resolve(f.getFileName()));
        }
        var config = (com.fasterxml.jackson.databind.node.ObjectNode)
                Json.MAPPER.readTree(model.resolve("generation_config.json").toFile());
        Files.writeString(
                model.resolve("generation_config.json"),
                config.put("max_new_tokens", 12).toString());
        String output = tmp.resolve("generated").toString();
        CliRun r = CliRun.of(
                "predict",
                "--task",
                "text-generation",
                "--model",
                model.toString(),
                "--input",
                input.toString(),
                "--output",
                output);
        assertEquals(0, r.exitCode(), r.err());
        // the command stopped its own session; this one must not outlive the test (a later getOrCreate in this JVM,
        // e.g. SpamDemoTest's local[2] 2-replica fit, would get its single slot and wait for a second one)
        SparkSession spark = SparkSession.builder().master("local[2]").getOrCreate();
        List<Row> rows;
        try {
            rows = spark.read().parquet(output).orderBy("id").collectAsList();
        } finally {
            spark.stop();
        }
        assertEquals(prompts.size(), rows.size());
        for (int i = 0; i < rows.size(); i++) {
            assertEquals(greedyBatch.get("texts").get(i).asText(), rows.get(i).getAs("generated_text"), "row " + i);
        }
    }
}
