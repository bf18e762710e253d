package io.sparkformers.spark;

import static io.sparkformers.spark.SparkTestSupport.frame;
import static io.sparkformers.spark.SparkTestSupport.local;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.generation.GenerationReferences;
import io.sparkformers.hub.ChatTemplate.Message;
import io.sparkformers.hub.Json;
import io.sparkformers.pipeline.PipelineOptions;
import io.sparkformers.pipeline.Pipelines;
import io.sparkformers.pipeline.TextGenerationPipeline;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TextGenerator in local[2] on the tiny GPT-2 of the generation references: greedy texts equal transformers' (through
 * the pipeline) in input order over several partitions, seeded sampling equal whatever the partitioning, beams as an
 * array column, chat messages through the checkpoint's chat template, handleInvalid, schema errors, save/load.
 */
class TextGeneratorTest {
    @TempDir
    static Path tmp;

    static SparkSession spark;
    static String model;
    static List<String> prompts;
    static JsonNode greedyBatch;

    @BeforeAll
    static void start() throws Exception {
        System.setProperty("ai.djl.offline", "true");
        spark = local("TextGeneratorTest");
        model = GenerationReferences.gpt2Tiny().toString();
        greedyBatch = GenerationReferences.namedCase("generate", "greedy_batch");
        prompts = new ArrayList<>();
        greedyBatch.get("prompts").forEach(p -> prompts.add(p.asText()));
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
    }

    @Test
    void greedyTextsEqualTransformersInInputOrderOverPartitions() {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 3; i++) texts.addAll(prompts);
        TextGenerator g = new TextGenerator().setModel(model).setMaxNewTokens(12);
        List<Row> out = g.transform(frame(spark, texts, 3)).orderBy("id").collectAsList();
        assertEquals(texts.size(), out.size());
        for (int i = 0; i < out.size(); i++) {
            assertEquals(i, out.get(i).getInt(0));
            assertEquals(
                    greedyBatch.get("texts").get(i % 3).asText(), out.get(i).getString(2), "row " + i);
        }
        assertEquals(
                DataTypes.StringType,
                g.transformSchema(frame(spark, texts, 1).schema())
                        .apply("generated_text")
                        .dataType());
    }

    @Test
    void aTokenBudgetBelowOnePromptsKvCacheRunsEachRowAloneWithTheSameTexts() {
        List<String> texts = new ArrayList<>(prompts);
        // each prompt + 12 new tokens holds more than 12 cache positions: every batch is one row
        TextGenerator g =
                new TextGenerator().setModel(model).setMaxNewTokens(12).setMaxTokensPerBatch(12);
        List<Row> out = g.transform(frame(spark, texts, 1)).orderBy("id").collectAsList();
        for (int i = 0; i < out.size(); i++) {
            assertEquals(greedyBatch.get("texts").get(i).asText(), out.get(i).getString(2), "row " + i);
        }
    }

    @Test
    void seededSamplingGivesEachRowTheSameTextsWhateverThePartitioning() {
        List<String> texts = List.of(prompts.get(0), prompts.get(1), prompts.get(2), "Licensor", prompts.get(1));
        TextGenerator g = new TextGenerator()
                .setModel(model)
                .setMaxNewTokens(8)
                .setDoSample(true)
                .setTopK(0)
                .setNumReturnSequences(2)
                .setReturnFullText(false)
                .setSeed(7);
        List<Row> one = g.transform(frame(spark, texts, 1)).orderBy("id").collectAsList();
        List<Row> three = g.setBatchSize(1)
                .transform(frame(spark, texts, 3))
                .orderBy("id")
                .collectAsList();
        for (int i = 0; i < texts.size(); i++) {
            assertEquals(one.get(i).getList(2), three.get(i).getList(2), "row " + i);
            assertEquals(2, one.get(i).getList(2).size());
        }
        assertEquals(one.get(1).getList(2), one.get(4).getList(2), "equal prompts, equal samples");
        List<Row> other =
                g.setSeed(8).transform(frame(spark, texts, 1)).orderBy("id").collectAsList();
        assertNotEquals(
                one.stream().map(r -> r.getList(2)).toList(),
                other.stream().map(r -> r.getList(2)).toList());
    }

    @Test
    void beamsReturnAnArrayPerRowAsTransformers() {
        JsonNode ref = GenerationReferences.namedCase("generate", "beam");
        List<String> texts = new ArrayList<>();
        ref.get("prompts").forEach(p -> texts.add(p.asText()));
        TextGenerator g = new TextGenerator()
                .setModel(model)
                .setMaxNewTokens(10)
                .setNumBeams(4)
                .setNumReturnSequences(2);
        ObjectNode extra = Json.MAPPER.createObjectNode().put("eos_token_id", 100);
        Path withEos = copyWithGenerationConfig(extra);
        List<Row> out = g.setModel(withEos.toString())
                .transform(frame(spark, texts, 2))
                .orderBy("id")
                .collectAsList();
        for (int i = 0; i < texts.size(); i++) {
            List<String> got = out.get(i).getList(2);
            assertEquals(
                    List.of(
                            ref.get("texts").get(2 * i).asText(),
                            ref.get("texts").get(2 * i + 1).asText()),
                    got);
        }
    }

    @Test
    void invalidPromptsFollowHandleInvalid() {
        List<String> texts = Arrays.asList(prompts.get(1), null, " ", prompts.get(0));
        TextGenerator g = new TextGenerator().setModel(model).setMaxNewTokens(4);
        Exception e = assertThrows(
                Exception.class, () -> g.transform(frame(spark, texts, 1)).collectAsList());
        assertTrue(rootMessage(e).contains("has invalid prompt in column 'text': text is null"), rootMessage(e));
        assertEquals(
                2, g.setHandleInvalid("skip").transform(frame(spark, texts, 2)).count());
        List<Row> kept = g.setHandleInvalid("keep")
                .transform(frame(spark, texts, 2))
                .orderBy("id")
                .collectAsList();
        assertNull(kept.get(1).get(2));
        assertEquals("text is whitespace only", kept.get(2).getString(3));
        assertTrue(kept.get(3).getString(2).startsWith(prompts.get(0)));
    }

    @Test
    void messagesAreRenderedByTheChatTemplateAsThePipelineDoes() throws Exception {
        Path dir = copyWithGenerationConfig(null);
        ObjectNode tc = (ObjectNode)
                Json.MAPPER.readTree(dir.resolve("tokenizer_config.json").toFile());
        tc.put(
                "chat_template",
                "{% for m in messages %}{{ m['role'] + ': ' + m['content'] + '\n' }}{% endfor %}"
                        + "{% if add_generation_prompt %}{{ 'assistant:' }}{% endif %}");
        Files.writeString(dir.resolve("tokenizer_config.json"), tc.toString());
        StructType message = new StructType().add("role", DataTypes.StringType).add("content", DataTypes.StringType);
        StructType schema = new StructType()
                .add("id", DataTypes.IntegerType, false)
                .add("messages", DataTypes.createArrayType(message), true);
        Dataset<Row> df = spark.read()
                .schema(schema)
                .json(spark.createDataset(
                        List.of(
                                "{\"id\": 0, \"messages\": [{\"role\": \"user\", \"content\": \"May I copy the Work?\"}]}",
                                "{\"id\": 1, \"messages\": null}"),
                        org.apache.spark.sql.Encoders.STRING()));
        TextGenerator g = new TextGenerator()
                .setModel(dir.toString())
                .setMessagesCol("messages")
                .setMaxNewTokens(6)
                .setHandleInvalid("keep");
        List<Row> out = g.transform(df).orderBy("id").collectAsList();
        PipelineOptions options = PipelineOptions.builder()
                .generateKwargs(Json.MAPPER.createObjectNode().put("max_new_tokens", 6))
                .build();
        try (TextGenerationPipeline p = (TextGenerationPipeline) Pipelines.create("text-generation", dir, options)) {
            assertEquals(
                    "user: May I copy the Work?\nassistant:",
                    p.applyChatTemplate(List.of(new Message("user", "May I copy the Work?"))));
            String reply = p.chat(List.of(List.of(new Message("user", "May I copy the Work?"))))
                    .get(0)
                    .get(0);
            assertEquals(reply, out.get(0).getString(2));
        }
        assertEquals("messages are null", out.get(1).getString(3));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> new TextGenerator().setModel(model).setMessagesCol("id").transformSchema(schema));
        assertEquals(
                "messagesCol 'id' must be array<struct<role: string, content: string>> but got int", e.getMessage());
    }

    @Test
    void savedStageLoadsWithItsParamsAndGeneratesTheSame() throws Exception {
        TextGenerator g = new TextGenerator()
                .setModel(model)
                .setMaxNewTokens(12)
                .setStopStrings("ci")
                .setSeed(3);
        String path = tmp.resolve("saved").toString();
        g.save(path);
        TextGenerator loaded = TextGenerator.load(path);
        assertEquals(g.generateKwargs(), loaded.generateKwargs());
        assertArrayEquals(new String[] {"ci"}, loaded.getStopStrings());
        List<String> a = g.transform(frame(spark, prompts, 1))
                .select("generated_text")
                .as(org.apache.spark.sql.Encoders.STRING())
                .collectAsList();
        List<String> b = loaded.transform(frame(spark, prompts, 1))
                .select("generated_text")
                .as(org.apache.spark.sql.Encoders.STRING())
                .collectAsList();
        assertEquals(a, b);
    }

    private static Path copyWithGenerationConfig(ObjectNode extra) {
        try {
            Path dir = Files.createTempDirectory(tmp, "gpt2");
            try (Stream<Path> files = Files.list(GenerationReferences.gpt2Tiny())) {
                for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()));
            }
            if (extra != null) {
                ObjectNode gc = (ObjectNode) Json.MAPPER.readTree(
                        dir.resolve("generation_config.json").toFile());
                gc.setAll(extra);
                Files.writeString(dir.resolve("generation_config.json"), gc.toString());
            }
            return dir;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String rootMessage(Throwable t) {
        StringBuilder b = new StringBuilder();
        for (; t != null; t = t.getCause()) b.append(t.getMessage()).append(" | ");
        return b.toString();
    }
}
