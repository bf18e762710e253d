package io.sparkformers.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.nn.bert.BertConfig;
import io.sparkformers.nn.bert.BertForSequenceClassification;
import io.sparkformers.nn.bert.BertModel;
import io.sparkformers.nn.distilbert.DistilBertConfig;
import io.sparkformers.nn.distilbert.DistilBertForMaskedLM;
import io.sparkformers.nn.distilbert.DistilBertForSequenceClassification;
import io.sparkformers.nn.distilbert.DistilBertModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** config.json handling, AutoModels, DistilBERT names, sentence embeddings, losses. */
class ConfigAndFactoryTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static ObjectNode json(String s) throws Exception {
        return (ObjectNode) JSON.readTree(s);
    }

    @Test
    void configJsonRoundTripKeepsUnknownKeys() throws Exception {
        ObjectNode in = json("""
            {"model_type":"bert","vocab_size":100,"hidden_size":32,"num_hidden_layers":2,"num_attention_heads":4,
             "intermediate_size":37,"layer_norm_eps":1e-7,"id2label":{"1":"pos","0":"neg"},
             "label2id":{"neg":0,"pos":1},"transformers_version":"4.44.0","torch_dtype":"float32",
             "gradient_checkpointing":false,"classifier_dropout":null}""");
        BertConfig c = BertConfig.fromJson(in);
        assertEquals(1e-7, c.layerNormEps());
        assertEquals(Map.of(0, "neg", 1, "pos"), c.id2label());
        assertEquals(2, c.numLabels());
        ObjectNode out = c.toJson();
        assertEquals("4.44.0", out.get("transformers_version").asText());
        assertEquals("float32", out.get("torch_dtype").asText());
        assertEquals(1, out.get("label2id").get("pos").asInt());
        assertEquals(c, BertConfig.fromJson(out));
        assertEquals(out, BertConfig.fromJson(out).toJson());
    }

    @Test
    void numLabelsWithoutNamesGivesHfDefaultLabels() throws Exception {
        BertConfig c = BertConfig.fromJson(json("{\"num_labels\":3}"));
        assertEquals(
                List.of("LABEL_0", "LABEL_1", "LABEL_2"),
                new ArrayList<>(c.id2label().values()));
        assertEquals(2, BertConfig.fromJson(json("{}")).numLabels());
    }

    @Test
    void rejectsHiddenSizeNotDivisibleByHeads() throws Exception {
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> BertConfig.fromJson(json("{\"hidden_size\":30,\"num_attention_heads\":4}")));
        assertEquals("hiddenSize (30) is not a multiple of numAttentionHeads (4)", e.getMessage());
        var d = assertThrows(
                IllegalArgumentException.class, () -> DistilBertConfig.fromJson(json("{\"dim\":30,\"n_heads\":4}")));
        assertEquals("dim (30) is not a multiple of n_heads (4)", d.getMessage());
    }

    @Test
    void rejectsUnsupportedPositionEmbeddingTypeAndActivation() throws Exception {
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> BertConfig.fromJson(json("{\"position_embedding_type\":\"relative_key\"}")));
        assertEquals("position_embedding_type 'relative_key' is not supported (supported: [absolute])", e.getMessage());
        var a = assertThrows(
                IllegalArgumentException.class, () -> BertConfig.fromJson(json("{\"hidden_act\":\"quick_gelu\"}")));
        assertEquals("unsupported activation 'quick_gelu' (supported: [gelu, gelu_new, relu, silu])", a.getMessage());
    }

    @Test
    void autoModelsPicksArchitectureAndRejectsUnknownTypes() throws Exception {
        assertInstanceOf(
                BertForSequenceClassification.class,
                AutoModels.fromConfig(BertConfig.tiny().toJson(), Task.SEQUENCE_CLASSIFICATION));
        PretrainedModel roberta =
                AutoModels.fromConfig(BertConfig.tiny().withModelType("roberta").toJson(), Task.BASE);
        assertEquals("roberta", roberta.baseModelPrefix());
        assertInstanceOf(
                DistilBertForMaskedLM.class,
                AutoModels.fromConfig(DistilBertConfig.tiny().toJson(), Task.MASKED_LM));
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> AutoModels.fromConfig(json("{\"model_type\":\"whisper\"}"), Task.BASE));
        assertEquals(
                "unsupported model_type 'whisper' (supported: [bert, roberta, xlm-roberta, distilbert, gpt2, llama, "
                        + "mistral, qwen2, bart, t5, marian])",
                e.getMessage());
        var t5 = assertThrows(
                IllegalArgumentException.class,
                () -> AutoModels.fromConfig(json("{\"model_type\":\"t5\"}"), Task.BASE));
        assertEquals("task BASE is not supported for t5 (supported: [SEQ2SEQ_LM])", t5.getMessage());
        var bert = assertThrows(
                IllegalArgumentException.class,
                () -> AutoModels.fromConfig(BertConfig.tiny().toJson(), Task.SEQ2SEQ_LM));
        assertTrue(bert.getMessage().contains("not an encoder-decoder"), bert.getMessage());
        for (String type : List.of("roberta", "xlm-roberta")) {
            var json = BertConfig.tiny().withModelType(type).toJson();
            assertInstanceOf(
                    io.sparkformers.nn.bert.RobertaForSequenceClassification.class,
                    AutoModels.fromConfig(json, Task.SEQUENCE_CLASSIFICATION));
            assertInstanceOf(
                    io.sparkformers.nn.bert.RobertaForMaskedLM.class, AutoModels.fromConfig(json, Task.MASKED_LM));
        }
        var r = assertThrows(
                IllegalArgumentException.class,
                () -> new io.sparkformers.nn.bert.BertForSequenceClassification(
                        BertConfig.tiny().withModelType("roberta")));
        assertTrue(r.getMessage().contains("classifier.out_proj"), r.getMessage());
        var b = assertThrows(
                IllegalArgumentException.class,
                () -> new io.sparkformers.nn.bert.RobertaForMaskedLM(BertConfig.tiny()));
        assertTrue(b.getMessage().contains("use BertForMaskedLM"), b.getMessage());
    }

    @Test
    void distilBertKeysEqualHf() {
        List<String> base = new ArrayList<>(List.of(
                "embeddings.word_embeddings.weight",
                "embeddings.position_embeddings.weight",
                "embeddings.LayerNorm.weight",
                "embeddings.LayerNorm.bias"));
        for (int i = 0; i < 2; i++) {
            for (String m : List.of(
                    "attention.q_lin",
                    "attention.k_lin",
                    "attention.v_lin",
                    "attention.out_lin",
                    "sa_layer_norm",
                    "ffn.lin1",
                    "ffn.lin2",
                    "output_layer_norm")) {
                base.add("transformer.layer." + i + "." + m + ".weight");
                base.add("transformer.layer." + i + "." + m + ".bias");
            }
        }
        DistilBertConfig c = DistilBertConfig.tiny();
        assertEquals(
                new TreeSet<>(base),
                new TreeSet<>(ParameterNames.of(new DistilBertModel(c)).keySet()));
        List<String> seq =
                new ArrayList<>(base.stream().map(k -> "distilbert." + k).toList());
        seq.addAll(List.of("pre_classifier.weight", "pre_classifier.bias", "classifier.weight", "classifier.bias"));
        assertEquals(
                new TreeSet<>(seq),
                new TreeSet<>(ParameterNames.of(new DistilBertForSequenceClassification(c))
                        .keySet()));
        List<String> mlm =
                new ArrayList<>(base.stream().map(k -> "distilbert." + k).toList());
        mlm.addAll(List.of(
                "vocab_transform.weight",
                "vocab_transform.bias",
                "vocab_layer_norm.weight",
                "vocab_layer_norm.bias",
                "vocab_projector.bias"));
        assertEquals(
                new TreeSet<>(mlm),
                new TreeSet<>(ParameterNames.of(new DistilBertForMaskedLM(c)).keySet()));
    }

    @Test
    void distilBertForwardShapesAndPaddingInvariance() {
        try (NDManager m = NDManager.newBaseManager()) {
            var model = new DistilBertForSequenceClassification(DistilBertConfig.tiny());
            model.initialize(m);
            StateDict.load(model, TestWeights.deterministic(model, 0.5), StateDict.Options.STRICT);
            NDArray alone = model.predict(new NDList(m.create(new long[] {2, 17, 33}, new Shape(1, 3))))
                    .head();
            NDArray batch = model.predict(new NDList(
                            m.create(new long[] {2, 17, 33, 0, 5, 6, 0, 0}, new Shape(2, 4)),
                            m.create(new long[] {1, 1, 1, 0, 1, 1, 0, 0}, new Shape(2, 4))))
                    .head();
            assertEquals(new Shape(2, 2), batch.getShape());
            double d = alone.get("0").sub(batch.get("0")).abs().max().getFloat();
            assertTrue(d <= 1e-5, "logits max |diff| = " + d);
            var mlm = new DistilBertForMaskedLM(DistilBertConfig.tiny());
            mlm.initialize(m);
            assertEquals(
                    new Shape(1, 3, 100),
                    mlm.predict(new NDList(m.create(new long[] {2, 17, 33}, new Shape(1, 3))))
                            .head()
                            .getShape());
        }
    }

    @Test
    void sentenceEmbeddingIsMaskedMeanThenL2() {
        try (NDManager m = NDManager.newBaseManager()) {
            var se = (SentenceEmbedding) AutoModels.forBert(BertConfig.tiny(), Task.SENTENCE_EMBEDDING);
            se.initialize(m);
            NDList in = new NDList(
                    m.create(new long[] {2, 17, 33, 0}, new Shape(1, 4)),
                    m.create(new long[] {1, 1, 1, 0}, new Shape(1, 4)));
            NDArray e = se.predict(in).head();
            NDArray hidden = se.encoder().predict(in).head().get("0, 0:3");
            NDArray mean = hidden.mean(new int[] {0});
            NDArray expected = mean.div(mean.norm());
            double d = e.get("0").sub(expected).abs().max().getFloat();
            assertTrue(d <= 1e-6, "max |diff| = " + d);
            assertEquals(
                    List.of("bert.embeddings.word_embeddings.weight"),
                    ParameterNames.of(se).keySet().stream().limit(1).toList());
            // a sentence-transformers checkpoint (bare BertModel keys, with pooler) loads with the prefix added
            LoadReport r = StateDict.load(se, StateDict.of(initBase(m)), StateDict.Options.STRICT);
            assertEquals(List.of("bert.pooler.dense.weight", "bert.pooler.dense.bias"), r.ignored());
        }
    }

    private static BertModel initBase(NDManager m) {
        var b = new BertModel(BertConfig.tiny());
        b.initialize(m);
        return b;
    }

    @Test
    void lossesMatchPyTorchDefinitions() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray logits = m.create(new float[] {2f, 0f, -1f, 0.5f, 0.5f, 3f}, new Shape(2, 3));
            NDArray labels = m.create(new long[] {0, -100});
            double lse = Math.log(Math.exp(2) + Math.exp(0) + Math.exp(-1));
            assertEquals(lse - 2, Losses.crossEntropy(logits, labels).getFloat(), 1e-6);
            NDArray y = m.create(new float[] {1, 0, 0, 1, 0, 1}, new Shape(2, 3));
            double bce = 0;
            float[] x = logits.toFloatArray();
            float[] t = y.toFloatArray();
            for (int i = 0; i < 6; i++) {
                double p = 1 / (1 + Math.exp(-x[i]));
                bce -= (t[i] * Math.log(p) + (1 - t[i]) * Math.log(1 - p)) / 6;
            }
            assertEquals(bce, Losses.bceWithLogits(logits, y).getFloat(), 1e-6);
            assertEquals(
                    0.25,
                    Losses.mse(m.create(new float[] {1, 2}), m.create(new float[] {1.5f, 1.5f}))
                            .getFloat(),
                    1e-7);
        }
    }
}
