package io.sparkformers.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code predict --task summarization|translation_xx_to_yy|text2text-generation|text-generation} with the generate
 * flags (kebab-case on the command line, HF names in the YAML config) on lib's seeded tiny checkpoints: the written
 * columns hold the texts transformers 4.57.6 generates (lib/src/test/resources/seq2seq and generation references),
 * and a flag wins over the checkpoint's generation_config.json.
 */
class Seq2SeqCliTest {
    static final Path SEQ2SEQ = Path.of("..", "lib", "src", "test", "resources", "seq2seq");
    static final Path GENERATION = Path.of("..", "lib", "src", "test", "resources", "generation");

    @TempDir
    static Path tmp;

    static JsonNode pipelines;

    @BeforeAll
    static void references() throws Exception {
        System.setProperty("ai.djl.offline", "true");
        pipelines = Json.MAPPER
                .readTree(SEQ2SEQ.resolve("references.json").toFile())
                .get("pipelines");
    }

    /** The texts as a JSON-lines file of (id, text). */
    private static Path input(String name, List<String> texts) throws IOException {
        Path input = tmp.resolve(name + ".json");
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < texts.size(); i++) {
            lines.append(Json.MAPPER.createObjectNode().put("id", i).put("text", texts.get(i)))
                    .append('\n');
        }
        Files.writeString(input, lines);
        return input;
    }

    private static List<String> texts(JsonNode ref) {
        List<String> texts = new ArrayList<>();
        ref.get("texts").forEach(t -> texts.add(t.asText()));
        return texts;
    }

    /** id → column of the JSON part files predict wrote. */
    private static List<String> written(Path output, String column) throws IOException {
        TreeMap<Integer, String> byId = new TreeMap<>();
        try (Stream<Path> files = Files.list(output)) {
            for (Path f : files.filter(p -> p.getFileName().toString().startsWith("part-"))
                    .toList()) {
                for (String line : Files.readAllLines(f)) {
                    JsonNode row = Json.MAPPER.readTree(line);
                    byId.put(row.get("id").asInt(), row.get(column).asText());
                }
            }
        }
        return new ArrayList<>(byId.values());
    }

    private static List<String> prompts(JsonNode generateCase) {
        List<String> prompts = new ArrayList<>();
        generateCase.get("prompts").forEach(t -> prompts.add(t.asText()));
        return prompts;
    }

    private static List<String> expected(JsonNode ref, String key) {
        List<String> out = new ArrayList<>();
        ref.get("outputs").forEach(o -> out.add(o.get(0).get(key).asText()));
        return out;
    }

    @Test
    void predictTranslationPairWritesTransformersTranslations() throws Exception {
        JsonNode ref = pipelines.get(3);
        assertEquals("translation_en_to_de", ref.get("task").asText());
        Path output = tmp.resolve("translated");
        CliRun r = CliRun.of(
                "predict",
                "--task",
                "translation_en_to_de",
                "--model",
                SEQ2SEQ.resolve("t5-tiny").toString(),
                "--input",
                input("en", texts(ref)).toString(),
                "--output",
                output.toString(),
                "--output-format",
                "json");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(expected(ref, "translation_text"), written(output, "translation_text"));
    }

    @Test
    void predictConfigTakesHfGenerateNames() throws Exception {
        JsonNode ref = pipelines.get(4); // t5 v1.1, text2text-generation, max_new_tokens 8, num_beams 2
        assertEquals(Json.MAPPER.readTree("{\"max_new_tokens\": 8, \"num_beams\": 2}"), ref.get("kwargs"));
        Path output = tmp.resolve("generated");
        Path yaml = tmp.resolve("t2t.yaml");
        Files.writeString(
                yaml,
                String.join(
                        "\n",
                        "task: text2text-generation",
                        "model: " + SEQ2SEQ.resolve("t5-v11-tiny"),
                        "input: " + input("t2t", texts(ref)),
                        "output: " + output,
                        "output_format: json",
                        "max_new_tokens: 8",
                        "num_beams: 2",
                        "seed: 3",
                        ""));
        CliRun r = CliRun.of("predict", "--config", yaml.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(expected(ref, "generated_text"), written(output, "generated_text"));
    }

    @Test
    void predictTextGenerationFlagsWinOverGenerationConfig() throws Exception {
        JsonNode greedy = null;
        for (JsonNode c : Json.MAPPER
                .readTree(GENERATION.resolve("references.json").toFile())
                .get("generate")) {
            if (c.get("name").asText().equals("greedy_batch")) greedy = c;
        }
        Path model = Files.createDirectories(tmp.resolve("gpt2-3"));
        try (var files = Files.list(GENERATION.resolve("gpt2-tiny"))) {
            for (Path f : files.toList()) Files.copy(f, model.resolve(f.getFileName()));
        }
        ObjectNode config = (ObjectNode)
                Json.MAPPER.readTree(model.resolve("generation_config.json").toFile());
        Files.writeString(
                model.resolve("generation_config.json"),
                config.put("max_new_tokens", 3).toString());
        Path output = tmp.resolve("continued");
        CliRun r = CliRun.of(
                "predict",
                "--task",
                "text-generation",
                "--model",
                model.toString(),
                "--input",
                input("prompts", prompts(greedy)).toString(),
                "--output",
                output.toString(),
                "--output-format",
                "json",
                "--max-new-tokens",
                "12");
        assertEquals(0, r.exitCode(), r.err());
        List<String> expected = new ArrayList<>();
        greedy.get("texts").forEach(t -> expected.add(t.asText()));
        assertEquals(expected, written(output, "generated_text"));
    }

    @Test
    void badGenerateValuesFailBeforeSparkNamingTheKey() throws Exception {
        Path yaml = tmp.resolve("bad.yaml");
        Files.writeString(yaml, "task: summarization\nnum_beams: two\n");
        CliRun r = CliRun.of("predict", "--config", yaml.toString());
        assertNotEquals(0, r.exitCode());
        assertTrue(r.err().contains("config key num_beams in " + yaml + " is 'two' but must be an integer"), r.err());
        Files.writeString(yaml, "task: summarization\ntemperature: hot\n");
        r = CliRun.of("predict", "--config", yaml.toString());
        assertTrue(r.err().contains("config key temperature in " + yaml + " is 'hot' but must be a number"), r.err());
        r = CliRun.of(
                "predict",
                "--task",
                "translation_en",
                "--model",
                "x",
                "--input",
                "in",
                "--output",
                "out",
                "--num-beams",
                "2");
        assertTrue(r.err().contains("unknown task 'translation_en'"), r.err());
    }
}
