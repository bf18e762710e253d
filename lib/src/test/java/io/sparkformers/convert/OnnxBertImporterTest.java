package io.sparkformers.convert;

import static io.sparkformers.convert.OnnxProtoWriter.floatTensor;
import static io.sparkformers.convert.OnnxProtoWriter.graph;
import static io.sparkformers.convert.OnnxProtoWriter.model;
import static io.sparkformers.convert.OnnxProtoWriter.node;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.SentencePooling;
import io.sparkformers.safetensors.DType;
import io.sparkformers.safetensors.Tensor;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class OnnxBertImporterTest {

    /** The HF BertModel key set written out by hand from modeling_bert.py, independent of the importer's table. */
    static Set<String> expectedBertModelKeys(int layers) {
        Set<String> keys = new TreeSet<>(List.of(
                "embeddings.word_embeddings.weight",
                "embeddings.position_embeddings.weight",
                "embeddings.token_type_embeddings.weight",
                "embeddings.LayerNorm.weight",
                "embeddings.LayerNorm.bias"));
        for (int l = 0; l < layers; l++) {
            for (String m : List.of(
                    "attention.self.query",
                    "attention.self.key",
                    "attention.self.value",
                    "attention.output.dense",
                    "attention.output.LayerNorm",
                    "intermediate.dense",
                    "output.dense",
                    "output.LayerNorm")) {
                keys.add("encoder.layer." + l + "." + m + ".weight");
                keys.add("encoder.layer." + l + "." + m + ".bias");
            }
        }
        return keys;
    }

    @Test
    void parsesAllMiniLmGraph() throws Exception {
        try (ModelJar jar = ModelJar.open(RealJars.allMiniLm())) {
            assertEquals("all-minilm-l6-v2.onnx", jar.onnxEntry());
            assertEquals("all-minilm-l6-v2-tokenizer.json", jar.tokenizerEntry());
            OnnxModel m = jar.readOnnx();
            assertEquals(637, m.nodes().size());
            assertEquals(102, m.initializers().size());
            assertEquals(List.of("input_ids", "attention_mask", "token_type_ids"), m.graphInputs());
            assertEquals(List.of("last_hidden_state"), m.graphOutputs());
            assertArrayEquals(
                    new long[] {30522, 384},
                    m.initializers().get("embeddings.word_embeddings.weight").shape());
            OnnxModel.Node q = m.nodes().stream()
                    .filter(n -> n.name().equals("/encoder/layer.0/attention/self/query/MatMul"))
                    .findFirst()
                    .orElseThrow();
            assertEquals("MatMul", q.opType());
            assertEquals(DType.F32, m.initializers().get(q.inputs().get(1)).dtype());
            // the attention scale 1/sqrt(32) arrives as a Constant node's scalar tensor
            assertEquals(
                    (float) Math.sqrt(32),
                    m.constants()
                            .get("/encoder/layer.0/attention/self/Constant_12_output_0")
                            .toFloatArray()[0],
                    1e-6f);
        }
    }

    @Test
    void importsAllMiniLmWithHfNamesShapesAndConfig() throws Exception {
        long t0 = System.nanoTime();
        ImportedCheckpoint c = OnnxBertImporter.importJar(RealJars.allMiniLm());
        System.out.printf(
                "all-MiniLM-L6-v2 imported in %.1f s, %d params%n", (System.nanoTime() - t0) / 1e9, c.parameterCount());
        assertEquals(expectedBertModelKeys(6), new TreeSet<>(c.weights().keySet()));
        assertShape(c, "encoder.layer.0.attention.self.query.weight", 384, 384);
        assertShape(c, "encoder.layer.5.intermediate.dense.weight", 1536, 384);
        assertShape(c, "encoder.layer.5.output.dense.weight", 384, 1536);
        assertShape(c, "embeddings.word_embeddings.weight", 30522, 384);
        assertShape(c, "embeddings.position_embeddings.weight", 512, 384);
        long h = 384, i = 1536;
        long perLayer = 4 * (h * h + h) + (h * i + i) + (i * h + h) + 2 * 2 * h;
        assertEquals((30522 + 512 + 2) * h + 2 * h + 6 * perLayer, c.parameterCount()); // 22.7M less the pooler
        assertConfig(c.config(), 6, 384, 1536, 12);
        // sentence-transformers' max_seq_length (the model card's sentence_bert_config.json), below model_max_length
        assertEquals(Optional.of(new SentencePooling(SentencePooling.Mode.MEAN, true, 256)), c.pooling());
        assertTrue(c.tokenizerConfig().get("do_lower_case").asBoolean());
        assertEquals(512, c.tokenizerConfig().get("model_max_length").asInt());
        assertTrue(new String(c.tokenizerJson(), java.nio.charset.StandardCharsets.UTF_8).contains("\"WordPiece\""));
    }

    @Test
    void importsBgeSmallWithClsPooling() throws Exception {
        ImportedCheckpoint c = OnnxBertImporter.importJar(RealJars.bgeSmall());
        assertEquals(expectedBertModelKeys(12), new TreeSet<>(c.weights().keySet()));
        assertShape(c, "encoder.layer.11.attention.self.query.weight", 384, 384);
        assertShape(c, "encoder.layer.11.intermediate.dense.weight", 1536, 384);
        assertConfig(c.config(), 12, 384, 1536, 12);
        assertEquals(SentencePooling.Mode.CLS, c.pooling().orElseThrow().mode());
    }

    @Test
    void importsE5Small() throws Exception {
        ImportedCheckpoint c = OnnxBertImporter.importJar(RealJars.e5Small());
        assertEquals(expectedBertModelKeys(12), new TreeSet<>(c.weights().keySet()));
        assertShape(c, "encoder.layer.3.output.dense.weight", 384, 1536);
        assertConfig(c.config(), 12, 384, 1536, 12);
        assertEquals(SentencePooling.Mode.MEAN, c.pooling().orElseThrow().mode());
    }

    @Test
    void queryWeightRowIsColumnOfOnnxMatMulOperand() throws Exception {
        OnnxModel m;
        ImportedCheckpoint c;
        try (ModelJar jar = ModelJar.open(RealJars.allMiniLm())) {
            m = jar.readOnnx();
            c = OnnxBertImporter.importModel(m, jar.readTokenizerJson(), Optional.empty());
        }
        for (String module : List.of("encoder.layer.2.attention.self.query", "encoder.layer.4.intermediate.dense")) {
            String nodeName =
                    "/" + module.replace("layer.", "layer#").replace('.', '/').replace("layer#", "layer.") + "/MatMul";
            OnnxModel.Node mm = m.nodes().stream()
                    .filter(n -> n.name().equals(nodeName))
                    .findFirst()
                    .orElseThrow();
            Tensor raw = m.initializers().get(mm.inputs().get(1)); // [in, out]
            Tensor w = c.weights().get(module + ".weight"); // [out, in]
            long in = raw.shape()[0], out = raw.shape()[1];
            assertArrayEquals(new long[] {out, in}, w.shape());
            float[] r = raw.toFloatArray(), t = w.toFloatArray();
            for (int i : new int[] {0, 1, (int) out / 2, (int) out - 1}) {
                float[] row = Arrays.copyOfRange(t, (int) (i * in), (int) ((i + 1) * in));
                float[] col = new float[(int) in];
                for (int k = 0; k < in; k++) col[k] = r[(int) (k * out + i)];
                assertArrayEquals(col, row, module + " row " + i);
            }
        }
        assertTrue(c.pooling().isEmpty());
    }

    @Test
    void quantisedMiniLmDequantisesCloseToFloatModel() throws Exception {
        ImportedCheckpoint q = OnnxBertImporter.importJar(RealJars.allMiniLmQuantized());
        assertEquals(expectedBertModelKeys(6), new TreeSet<>(q.weights().keySet()));
        assertConfig(q.config(), 6, 384, 1536, 12);
        ImportedCheckpoint f = OnnxBertImporter.importJar(RealJars.allMiniLm());
        for (String k : List.of(
                "encoder.layer.0.attention.self.query.weight",
                "encoder.layer.5.output.dense.weight",
                "embeddings.word_embeddings.weight")) {
            float[] a = q.weights().get(k).toFloatArray(),
                    b = f.weights().get(k).toFloatArray();
            double maxDiff = 0, maxAbs = 0;
            for (int i = 0; i < a.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
                maxAbs = Math.max(maxAbs, Math.abs(b[i]));
            }
            // int8 steps: the error is at most half a step, and a step is at most max|w| / 127
            assertTrue(maxDiff <= maxAbs / 127, k + ": max |diff| = " + maxDiff + ", max |w| = " + maxAbs);
        }
    }

    @Test
    void refusesMatMulWhoseNameDisagreesWithItsBias() {
        byte[] bytes = model(graph(g -> g.initializer(floatTensor("onnx::MatMul_7", new float[16], 4, 4))
                .initializer(floatTensor("encoder.layer.0.attention.self.query.bias", new float[4], 4))
                .node(node(
                        "/encoder/layer.0/attention/self/key/MatMul",
                        "MatMul",
                        new String[] {"x", "onnx::MatMul_7"},
                        new String[] {"mm"}))
                .node(node(
                        "/encoder/layer.0/attention/self/key/Add",
                        "Add",
                        new String[] {"encoder.layer.0.attention.self.query.bias", "mm"},
                        new String[] {"y"}))));
        OnnxModel m = OnnxModel.read(ByteBuffer.wrap(bytes), "synthetic.onnx");
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> OnnxBertImporter.importModel(m, "{}".getBytes(), Optional.empty()));
        assertTrue(
                e.getMessage().contains("'/encoder/layer.0/attention/self/key/MatMul'")
                        && e.getMessage().contains("'encoder.layer.0.attention.self.key'")
                        && e.getMessage().contains("'encoder.layer.0.attention.self.query'")
                        && e.getMessage().contains("synthetic.onnx"),
                e.getMessage());
    }

    @Test
    void stripsBertPrefixFromNames() {
        assertEquals("encoder.layer.3.output.dense", OnnxBertImporter.hfName("bert.encoder.layer.3.output.dense"));
        assertEquals("pooler.dense.bias", OnnxBertImporter.hfName("pooler.dense.bias"));
    }

    private static void assertShape(ImportedCheckpoint c, String name, long... shape) {
        assertArrayEquals(shape, c.weights().get(name).shape(), name);
    }

    static void assertConfig(ObjectNode cfg, int layers, int hidden, int intermediate, int heads) {
        assertEquals("BertModel", cfg.get("architectures").get(0).asText());
        assertEquals("bert", cfg.get("model_type").asText());
        assertEquals(layers, cfg.get("num_hidden_layers").asInt());
        assertEquals(hidden, cfg.get("hidden_size").asInt());
        assertEquals(intermediate, cfg.get("intermediate_size").asInt());
        assertEquals(heads, cfg.get("num_attention_heads").asInt());
        assertEquals(1e-12, cfg.get("layer_norm_eps").asDouble());
        assertEquals(512, cfg.get("max_position_embeddings").asInt());
        assertEquals(2, cfg.get("type_vocab_size").asInt());
        assertEquals(30522, cfg.get("vocab_size").asInt());
        assertEquals("gelu", cfg.get("hidden_act").asText());
        assertEquals(0, cfg.get("pad_token_id").asInt());
        assertEquals("absolute", cfg.get("position_embedding_type").asText());
    }
}
