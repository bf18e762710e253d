package io.sparkformers.spark;

import static io.sparkformers.spark.SparkTestSupport.frame;
import static io.sparkformers.spark.SparkTestSupport.local;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.Json;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Summarizer, Translator and Text2TextGenerator in local[2] on the seeded tiny BART and T5 checkpoints of the seq2seq
 * parity tests: each row's text equals transformers 4.57.6's pipeline output (resources/seq2seq/references.json,
 * make_seq2seq_references.py) in input order over several partitions and batches, T5 prefixes from
 * task_specific_params, seeded sampling independent of the partitioning, save/load, streaming, schema errors.
 */
class EncoderDecoderStagesTest {
    @TempDir
    static Path tmp;

    static SparkSession spark;
    static JsonNode refs;

    @BeforeAll
    static void start() throws Exception {
        System.setProperty("ai.djl.offline", "true");
        spark = local("EncoderDecoderStagesTest");
        refs = Json.MAPPER.readTree(dir("references.json").toFile()).get("pipelines");
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
    }

    static Path dir(String name) throws Exception {
        return Path.of(
                EncoderDecoderStagesTest.class.getResource("/seq2seq/" + name).toURI());
    }

    /** The reference case's texts three times over, and each row's expected output under {@code key}. */
    private static List<String> texts(JsonNode ref) {
        List<String> texts = new ArrayList<>();
        for (int r = 0; r < 3; r++) ref.get("texts").forEach(t -> texts.add(t.asText()));
        return texts;
    }

    private static void assertRowsMatch(EncoderDecoderStage<?> stage, int refCase, String key) {
        JsonNode ref = refs.get(refCase);
        assertEquals(stage.pipelineTask(), ref.get("task").asText());
        List<String> texts = texts(ref);
        int n = ref.get("texts").size();
        List<Row> out = stage.transform(frame(spark, texts, 2)).orderBy("id").collectAsList();
        assertEquals(texts.size(), out.size());
        for (int i = 0; i < out.size(); i++) {
            assertEquals(i, out.get(i).getInt(0));
            assertEquals(
                    ref.get("outputs").get(i % n).get(0).get(key).asText(),
                    out.get(i).getString(2),
                    stage.pipelineTask() + " row " + i);
        }
    }

    @Test
    void summarizerEqualsTransformersWithT5sTaskPrefix() throws Exception {
        assertRowsMatch(new Summarizer().setModel(dir("t5-tiny").toString()), 2, "summary_text");
    }

    @Test
    void translatorRunsTheLanguagePairsTaskAsTransformers() throws Exception {
        Translator t = new Translator()
                .setModel(dir("t5-tiny").toString())
                .setSrcLang("en")
                .setTgtLang("de");
        assertEquals("translation_text", t.getOutputCol());
        assertRowsMatch(t, 3, "translation_text");
    }

    @Test
    void text2textEqualsTransformersWithAndWithoutCallOptions() throws Exception {
        assertRowsMatch(new Text2TextGenerator().setModel(dir("bart-tiny").toString()), 1, "generated_text");
        assertRowsMatch(
                new Text2TextGenerator()
                        .setModel(dir("t5-v11-tiny").toString())
                        .setMaxNewTokens(8)
                        .setNumBeams(2)
                        .setBatchSize(1),
                4,
                "generated_text");
    }

    @Test
    void translatorPutsTheTargetCodeOfAMultilingualMarianBeforeEachText() throws Exception {
        // marian_spm_references.json: transformers' translations of ">>de<< …" and ">>fr<< …" (codes in the text)
        JsonNode ref = Json.MAPPER.readTree(dir("marian_spm_references.json").toFile());
        List<String> texts = List.of(
                ref.get("texts").get(1).asText().substring(">>de<< ".length()),
                ref.get("texts").get(2).asText()); // a code already in the text is kept
        List<Row> out = new Translator()
                .setModel(dir("marian-spm-tiny").toString())
                .setSrcLang("en")
                .setTgtLang("de")
                .transform(frame(spark, texts, 1))
                .orderBy("id")
                .collectAsList();
        for (int i = 0; i < 2; i++) {
            assertEquals(
                    ref.get("translation")
                            .get(i + 1)
                            .get(0)
                            .get("translation_text")
                            .asText(),
                    out.get(i).getString(2),
                    "row " + i);
        }
    }

    @Test
    void seededSamplingGivesEachRowTheSameTextsWhateverThePartitioning() throws Exception {
        List<String> texts = texts(refs.get(2));
        Summarizer s = new Summarizer()
                .setModel(dir("t5-tiny").toString())
                .setDoSample(true)
                .setNumBeams(1)
                .setTopK(0)
                .setMaxNewTokens(6)
                .setNumReturnSequences(2)
                .setSeed(5);
        List<Row> one = s.transform(frame(spark, texts, 1)).orderBy("id").collectAsList();
        List<Row> three = s.setBatchSize(1)
                .transform(frame(spark, texts, 3))
                .orderBy("id")
                .collectAsList();
        for (int i = 0; i < texts.size(); i++) {
            assertEquals(one.get(i).getList(2), three.get(i).getList(2), "row " + i);
            assertEquals(2, one.get(i).getList(2).size());
        }
        assertEquals(one.get(0).getList(2), one.get(2).getList(2), "equal texts, equal samples");
        List<Row> other =
                s.setSeed(6).transform(frame(spark, texts, 1)).orderBy("id").collectAsList();
        assertNotEquals(
                one.stream().map(r -> r.getList(2)).toList(),
                other.stream().map(r -> r.getList(2)).toList());
    }

    @Test
    void savedTranslatorLoadsWithItsParamsAndTranslatesTheSame() throws Exception {
        Translator t = new Translator()
                .setModel(dir("t5-tiny").toString())
                .setSrcLang("en")
                .setTgtLang("de")
                .setMaxNewTokens(5)
                .setOutputCol("de");
        String path = tmp.resolve("translator").toString();
        t.save(path);
        Translator loaded = Translator.load(path);
        assertEquals("translation_en_to_de", loaded.pipelineTask());
        assertEquals(t.generateKwargs(), loaded.generateKwargs());
        List<String> texts = texts(refs.get(3));
        List<String> a = t.transform(frame(spark, texts, 1))
                .select("de")
                .as(Encoders.STRING())
                .collectAsList();
        List<String> b = loaded.transform(frame(spark, texts, 2))
                .select("de")
                .as(Encoders.STRING())
                .collectAsList();
        assertEquals(a, b);
        assertEquals(texts.size(), a.size());
    }

    @Test
    void streamingRowsAreSummarizedAsABatchTransformSummarizesThem() throws Exception {
        Path in = tmp.resolve("stream-in");
        Path out = tmp.resolve("stream-out");
        List<String> texts = texts(refs.get(2));
        frame(spark, texts, 2).write().parquet(in.toString());
        Summarizer s = new Summarizer().setModel(dir("t5-tiny").toString()).setMaxNewTokens(4);
        Dataset<Row> stream = spark.readStream().schema(SparkTestSupport.TEXTS).parquet(in.toString());
        Dataset<Row> scored = s.transform(stream);
        assertTrue(scored.isStreaming());
        StreamingQuery q = scored.writeStream()
                .format("parquet")
                .option("checkpointLocation", tmp.resolve("stream-ckpt").toString())
                .trigger(Trigger.AvailableNow())
                .start(out.toString());
        q.awaitTermination();
        List<Row> streamed = spark.read().parquet(out.toString()).orderBy("id").collectAsList();
        List<Row> batch = s.transform(frame(spark, texts, 1)).orderBy("id").collectAsList();
        assertEquals(texts.size(), streamed.size());
        for (int i = 0; i < texts.size(); i++)
            assertEquals(batch.get(i).getString(2), streamed.get(i).getString(2), "row " + i);
    }

    @Test
    void generationParamsAreDeclaredOnceDocumentedAndCopied() {
        for (GenerationStage<?> s : List.<GenerationStage<?>>of(
                new Summarizer(), new Translator(), new Text2TextGenerator(), new TextGenerator())) {
            List<String> names = new ArrayList<>();
            for (org.apache.spark.ml.param.Param<?> p : s.params()) {
                assertEquals(s.uid(), p.parent(), p.name());
                assertTrue(!p.doc().isBlank(), p.name());
                names.add(p.name());
            }
            assertTrue(
                    names.containsAll(List.of("maxNewTokens", "numBeams", "doSample", "seed", "stopStrings")),
                    s + " " + names);
            s.setModel("m")
                    .setGenerateKwargs(
                            Json.MAPPER.createObjectNode().put("num_beams", 3).put("top_p", 0.5));
            GenerationStage<?> c = (GenerationStage<?>) s.copy(new org.apache.spark.ml.param.ParamMap());
            assertEquals(s.uid(), c.uid());
            assertEquals(s.generateKwargs(), c.generateKwargs());
            assertEquals(3, c.generateKwargs().get("num_beams").asInt());
        }
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> new Summarizer()
                        .setGenerateKwargs(Json.MAPPER.createObjectNode().put("return_full_text", false)));
        assertTrue(
                e.getMessage().startsWith("generate() option 'return_full_text' is not supported by Summarizer"),
                e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> new Translator()
                        .setGenerateKwargs(Json.MAPPER.createObjectNode().put("num_beams", "two")));
        assertEquals("generate() option num_beams must be an integer but was \"two\"", e.getMessage());
        assertEquals(
                "translation_en_to_de",
                ((Translator) new Translator()
                                .setSrcLang("en")
                                .setTgtLang("de")
                                .copy(new org.apache.spark.ml.param.ParamMap()))
                        .pipelineTask());
    }

    @Test
    void schemaErrorsNameTheParamBeforeAnyJob() throws Exception {
        String model = dir("t5-tiny").toString();
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> new Translator().setModel(model).setSrcLang("en").transformSchema(SparkTestSupport.TEXTS));
        assertEquals(
                "srcLang and tgtLang are set together (got srcLang 'en', tgtLang ''): set both, e.g. en and de, "
                        + "or neither",
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Translator().setSrcLang("en_to"));
        StructType ints = new StructType().add("text", DataTypes.IntegerType);
        e = assertThrows(
                IllegalArgumentException.class,
                () -> new Summarizer().setModel(model).transformSchema(ints));
        assertTrue(e.getMessage().contains("int"), e.getMessage());
        assertEquals(
                DataTypes.createArrayType(DataTypes.StringType, false),
                new Summarizer()
                        .setModel(model)
                        .setNumReturnSequences(2)
                        .transformSchema(SparkTestSupport.TEXTS)
                        .apply("summary_text")
                        .dataType());
    }

    /** make_seq2seq_training_references.py's long-source cases: HF's truncation=True ids and pipeline outputs. */
    static JsonNode truncationRefs() throws Exception {
        return Json.MAPPER
                .readTree(Path.of("src/test/resources/seq2seq-training/references.json")
                        .toFile())
                .get("models");
    }

    @Test
    void aSourceLongerThanTheModelIsCutAsTransformersTruncationTrueCutsIt() throws Exception {
        for (String name : List.of("bart-tiny", "t5-tiny")) {
            JsonNode ref = truncationRefs().get(name);
            assertTrue(ref.get("long_ids").size() > 64, name + ": the long text must pass the 64 positions");
            Summarizer s = new Summarizer()
                    .setModel(dir(name).toString())
                    .setMaxNewTokens(8)
                    .setNumBeams(1);
            assertTrue(s.getTruncation(), "truncation is on by default");
            List<Row> out = s.transform(
                            frame(spark, List.of(ref.get("long_text").asText()), 1))
                    .collectAsList();
            assertEquals(ref.get("summary_truncated").asText(), out.get(0).getString(2), name);
        }
    }

    @Test
    void withTruncationOffATooLongSourceFailsNamingItsLengthAndTheParam() throws Exception {
        JsonNode ref = truncationRefs().get("bart-tiny");
        Summarizer s = new Summarizer()
                .setModel(dir("bart-tiny").toString())
                .setTruncation(false)
                .setMaxNewTokens(2);
        Exception e = assertThrows(
                Exception.class,
                () -> s.transform(frame(spark, List.of(ref.get("long_text").asText()), 1))
                        .collectAsList());
        assertTrue(
                e.getMessage().contains("its source has 185 tokens, more than the 64 the model takes")
                        && e.getMessage().contains("set truncation true"),
                e.getMessage());
        List<Row> kept = s.setHandleInvalid("skip")
                .transform(frame(spark, List.of(ref.get("long_text").asText(), "Copyright notice."), 1))
                .collectAsList();
        assertEquals(1, kept.size(), "handleInvalid skip drops the too-long row only");
    }
}
