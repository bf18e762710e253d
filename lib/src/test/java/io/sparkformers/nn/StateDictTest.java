package io.sparkformers.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.sparkformers.nn.bert.BertConfig;
import io.sparkformers.nn.bert.BertForMaskedLM;
import io.sparkformers.nn.bert.BertForSequenceClassification;
import io.sparkformers.nn.bert.BertForTokenClassification;
import io.sparkformers.nn.bert.BertModel;
import io.sparkformers.safetensors.DType;
import io.sparkformers.safetensors.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Loading by HF name like from_pretrained, and state_dict() back out. */
class StateDictTest {

    private NDManager manager;

    @BeforeEach
    void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void close() {
        manager.close();
    }

    private <M extends PretrainedModel> M init(M m) {
        m.initialize(manager);
        return m;
    }

    private NDList inputs() {
        return new NDList(
                manager.create(new long[] {2, 17, 33, 5, 0, 9, 4, 4, 71, 3}, new Shape(2, 5)),
                manager.create(new long[] {1, 1, 1, 1, 0, 1, 1, 1, 1, 1}, new Shape(2, 5)));
    }

    @Test
    void stateDictRoundTripIsBitIdentical() {
        var a = init(new BertForSequenceClassification(BertConfig.tiny()));
        Map<String, Tensor> sd = StateDict.of(a);
        var b = init(new BertForSequenceClassification(BertConfig.tiny()));
        assertTrue(StateDict.load(b, sd, StateDict.Options.STRICT).isExact());
        assertEquals(sd, StateDict.of(b));
        assertArrayEquals(
                a.predict(inputs()).head().toFloatArray(),
                b.predict(inputs()).head().toFloatArray());
    }

    @Test
    void reportListsMissingUnexpectedAndMismatchedTogether() {
        var m = init(new BertForSequenceClassification(BertConfig.tiny()));
        Map<String, Tensor> sd = new LinkedHashMap<>(StateDict.of(m));
        sd.remove("classifier.bias");
        sd.put("bert.encoder.layer.9.output.dense.weight", Tensor.ofFloats(new float[] {1}, 1));
        sd.put("bert.pooler.dense.bias", Tensor.ofFloats(new float[3], 3));
        var e = assertThrows(WeightLoadException.class, () -> StateDict.load(m, sd, StateDict.Options.STRICT));
        assertEquals(
                "error(s) loading weights into BertForSequenceClassification: missing keys [classifier.bias];"
                        + " unexpected keys [bert.encoder.layer.9.output.dense.weight]; size mismatches"
                        + " [bert.pooler.dense.bias: checkpoint F32[3] vs model F32[32]]",
                e.getMessage());
        // HF default: a size mismatch fails too, and the message still carries all three
        var hf = assertThrows(WeightLoadException.class, () -> StateDict.load(m, sd));
        assertTrue(hf.getMessage().contains("missing keys [classifier.bias]"), hf.getMessage());
        // tolerated mismatch: the weight stays freshly initialised and is listed
        var r = StateDict.load(m, sd, new StateDict.Options(false, true));
        assertEquals(
                List.of("bert.pooler.dense.bias", "classifier.bias"),
                r.newlyInitialized().stream().sorted().toList());
    }

    @Test
    void missingAndUnexpectedAloneAreReportedNotFatalByDefault() {
        var m = init(new BertForSequenceClassification(BertConfig.tiny()));
        Map<String, Tensor> sd = new LinkedHashMap<>(StateDict.of(m));
        sd.remove("classifier.weight");
        sd.put("bert.extra.weight", Tensor.ofFloats(new float[] {1}, 1));
        LoadReport r = StateDict.load(m, sd);
        assertEquals(List.of("classifier.weight"), r.missing());
        assertEquals(List.of("bert.extra.weight"), r.unexpected());
        assertEquals(List.of("classifier.weight"), r.newlyInitialized());
    }

    @Test
    void baseCheckpointLoadsIntoHeadWithPrefixAndNewHeadIsInitialisedAsHf() {
        var base = init(new BertModel(BertConfig.tiny()));
        Map<String, Tensor> ckpt = new LinkedHashMap<>(StateDict.of(base));
        ckpt.put("embeddings.position_ids", Tensor.ofLongs(new long[64], 1, 64));
        var head = init(new BertForSequenceClassification(BertConfig.tiny()));
        LoadReport r = StateDict.load(head, ckpt);
        assertEquals(List.of("classifier.weight", "classifier.bias"), r.missing());
        assertEquals(r.missing(), r.newlyInitialized());
        assertEquals(List.of(), r.unexpected());
        assertEquals(List.of("bert.embeddings.position_ids"), r.ignored());
        Map<String, Tensor> loaded = StateDict.of(head);
        assertEquals(
                ckpt.get("encoder.layer.1.output.dense.weight"),
                loaded.get("bert.encoder.layer.1.output.dense.weight"));
        float[] bias = loaded.get("classifier.bias").toFloatArray();
        assertArrayEquals(new float[2], bias);
        float[] w = loaded.get("classifier.weight").toFloatArray();
        double sq = 0;
        for (float v : w) sq += v * v;
        double std = Math.sqrt(sq / w.length);
        assertTrue(std > 0.01 && std < 0.03, "classifier init std " + std + " should be near initializer_range 0.02");
        float[] ln = loaded.get("bert.encoder.layer.0.output.LayerNorm.weight").toFloatArray();
        assertEquals(
                ckpt.get("encoder.layer.0.output.LayerNorm.weight"),
                loaded.get("bert.encoder.layer.0.output.LayerNorm.weight"));
        assertEquals(32, ln.length);
    }

    @Test
    void headCheckpointLoadsIntoBaseModelStrippingPrefix() {
        var head = init(new BertForSequenceClassification(BertConfig.tiny()));
        var base = init(new BertModel(BertConfig.tiny()));
        LoadReport r = StateDict.load(base, StateDict.of(head));
        assertEquals(List.of("classifier.weight", "classifier.bias"), r.unexpected());
        assertEquals(List.of(), r.missing());
        assertEquals(
                StateDict.of(head).get("bert.pooler.dense.weight"),
                StateDict.of(base).get("pooler.dense.weight"));
    }

    @Test
    void pretrainingCheckpointIgnoresKnownUnusedKeys() {
        var mlm = init(new BertForMaskedLM(BertConfig.tiny()));
        Map<String, Tensor> ckpt = new LinkedHashMap<>(StateDict.of(init(new BertModel(BertConfig.tiny()))));
        Map<String, Tensor> pretraining = new LinkedHashMap<>();
        ckpt.forEach((k, v) -> pretraining.put("bert." + k, v));
        StateDict.of(mlm).forEach((k, v) -> {
            if (k.startsWith("cls.")) pretraining.put(k, v);
        });
        pretraining.put("cls.predictions.decoder.weight", pretraining.get("bert.embeddings.word_embeddings.weight"));
        pretraining.put("cls.seq_relationship.weight", Tensor.ofFloats(new float[64], 2, 32));
        pretraining.put("cls.seq_relationship.bias", Tensor.ofFloats(new float[2], 2));

        LoadReport r = StateDict.load(mlm, pretraining, StateDict.Options.STRICT);
        assertEquals(
                List.of(
                        "bert.pooler.dense.weight",
                        "bert.pooler.dense.bias",
                        "cls.predictions.decoder.weight",
                        "cls.seq_relationship.weight",
                        "cls.seq_relationship.bias"),
                r.ignored());

        var tok = init(new BertForTokenClassification(BertConfig.tiny()));
        LoadReport r2 = StateDict.load(tok, pretraining);
        assertEquals(List.of(), r2.unexpected());
        assertEquals(List.of("classifier.weight", "classifier.bias"), r2.missing());
    }

    @Test
    void maskedLmDecoderIsTiedAndDecoderBiasAliasLoads() {
        var mlm = init(new BertForMaskedLM(BertConfig.tiny()));
        Map<String, Tensor> sd = new LinkedHashMap<>(StateDict.of(mlm));
        Tensor bias = sd.remove("cls.predictions.bias");
        float[] b = bias.toFloatArray();
        b[7] = 3.5f;
        sd.put("cls.predictions.decoder.bias", Tensor.ofFloats(b, b.length));
        assertTrue(StateDict.load(mlm, sd, StateDict.Options.STRICT).isExact());
        assertEquals(3.5f, StateDict.of(mlm).get("cls.predictions.bias").toFloatArray()[7]);

        NDArray before = mlm.predict(inputs()).head();
        float[] wordsZero = new float[100 * 32];
        sd.put("bert.embeddings.word_embeddings.weight", Tensor.ofFloats(wordsZero, 100, 32));
        StateDict.load(mlm, sd, StateDict.Options.STRICT);
        NDArray after = mlm.predict(inputs()).head();
        // the decoder reads the (now zero) word table: logits collapse to the bias
        assertEquals(3.5f, after.get("0, 0, 7").getFloat(), 1e-6);
        assertTrue(!before.allClose(after));
    }

    @Test
    void halfPrecisionCheckpointsAreWidened() {
        var m = init(new BertModel(BertConfig.tiny()));
        Map<String, Tensor> sd = new LinkedHashMap<>(StateDict.of(m));
        float[] v = sd.get("pooler.dense.bias").toFloatArray();
        ByteBuffer bf = ByteBuffer.allocate(v.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < v.length; i++) v[i] = (float) (i - 16) / 8; // exact in bf16
        for (float f : v) bf.putShort((short) (Float.floatToIntBits(f) >>> 16));
        bf.flip();
        sd.put("pooler.dense.bias", new Tensor(DType.BF16, new long[] {32}, bf));
        StateDict.load(m, sd, StateDict.Options.STRICT);
        assertArrayEquals(v, StateDict.of(m).get("pooler.dense.bias").toFloatArray());
        assertEquals(
                DataType.FLOAT32, m.getParameters().get(0).getValue().getArray().getDataType());
    }
}
