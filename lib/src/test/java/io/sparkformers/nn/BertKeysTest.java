package io.sparkformers.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.sparkformers.nn.bert.BertConfig;
import io.sparkformers.nn.bert.BertForMaskedLM;
import io.sparkformers.nn.bert.BertForQuestionAnswering;
import io.sparkformers.nn.bert.BertForSequenceClassification;
import io.sparkformers.nn.bert.BertForTokenClassification;
import io.sparkformers.nn.bert.BertModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Parameter names equal HF modeling_bert's state_dict keys; output shapes equal a real forward pass. */
class BertKeysTest {

    private NDManager manager;

    @BeforeEach
    void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void close() {
        manager.close();
    }

    /** HF BertModel keys for {@code layers} layers, each prefixed with {@code p}. */
    static List<String> hfBertKeys(String p, int layers, boolean pooler) {
        List<String> k = new ArrayList<>();
        for (String e : List.of("word_embeddings", "position_embeddings", "token_type_embeddings")) {
            k.add(p + "embeddings." + e + ".weight");
        }
        k.add(p + "embeddings.LayerNorm.weight");
        k.add(p + "embeddings.LayerNorm.bias");
        for (int i = 0; i < layers; i++) {
            String l = p + "encoder.layer." + i + ".";
            for (String m : List.of(
                    "attention.self.query",
                    "attention.self.key",
                    "attention.self.value",
                    "attention.output.dense",
                    "attention.output.LayerNorm",
                    "intermediate.dense",
                    "output.dense",
                    "output.LayerNorm")) {
                k.add(l + m + ".weight");
                k.add(l + m + ".bias");
            }
        }
        if (pooler) {
            k.add(p + "pooler.dense.weight");
            k.add(p + "pooler.dense.bias");
        }
        return k;
    }

    private static Set<String> keys(PretrainedModel m) {
        return new TreeSet<>(ParameterNames.of(m).keySet());
    }

    @Test
    void sequenceClassificationKeysEqualHf() {
        var m = new BertForSequenceClassification(BertConfig.tiny());
        List<String> want = hfBertKeys("bert.", 2, true);
        want.addAll(List.of("classifier.weight", "classifier.bias"));
        assertEquals(new TreeSet<>(want), keys(m));
    }

    @Test
    void tokenClassificationKeysEqualHf() {
        var m = new BertForTokenClassification(BertConfig.tiny());
        List<String> want = hfBertKeys("bert.", 2, false);
        want.addAll(List.of("classifier.weight", "classifier.bias"));
        assertEquals(new TreeSet<>(want), keys(m));
    }

    @Test
    void questionAnsweringKeysEqualHf() {
        var m = new BertForQuestionAnswering(BertConfig.tiny());
        List<String> want = hfBertKeys("bert.", 2, false);
        want.addAll(List.of("qa_outputs.weight", "qa_outputs.bias"));
        assertEquals(new TreeSet<>(want), keys(m));
    }

    @Test
    void maskedLmKeysEqualHfWithoutTiedDecoder() {
        var m = new BertForMaskedLM(BertConfig.tiny());
        List<String> want = hfBertKeys("bert.", 2, false);
        want.addAll(List.of(
                "cls.predictions.bias",
                "cls.predictions.transform.dense.weight",
                "cls.predictions.transform.dense.bias",
                "cls.predictions.transform.LayerNorm.weight",
                "cls.predictions.transform.LayerNorm.bias"));
        assertEquals(new TreeSet<>(want), keys(m));
    }

    @Test
    void baseModelKeysHaveNoPrefix() {
        assertEquals(new TreeSet<>(hfBertKeys("", 2, true)), keys(new BertModel(BertConfig.tiny())));
        assertEquals(new TreeSet<>(hfBertKeys("", 2, false)), keys(new BertModel(BertConfig.tiny(), false)));
    }

    @Test
    void stateDictShapesFollowPyTorch() {
        var m = new BertForSequenceClassification(BertConfig.tiny());
        m.initialize(manager);
        var sd = StateDict.of(m);
        assertArrayEquals(
                new long[] {100, 32},
                sd.get("bert.embeddings.word_embeddings.weight").shape());
        assertArrayEquals(
                new long[] {37, 32},
                sd.get("bert.encoder.layer.1.intermediate.dense.weight").shape());
        assertArrayEquals(
                new long[] {32, 37},
                sd.get("bert.encoder.layer.1.output.dense.weight").shape());
        assertArrayEquals(new long[] {2, 32}, sd.get("classifier.weight").shape());
        assertArrayEquals(
                new long[] {32}, sd.get("bert.embeddings.LayerNorm.bias").shape());
    }

    @Test
    void outputShapesEqualRealForward() {
        BertConfig c = BertConfig.tiny();
        NDArray ids = manager.randomInteger(1, 100, new Shape(3, 7), ai.djl.ndarray.types.DataType.INT64);
        NDArray mask = manager.ones(new Shape(3, 7), ai.djl.ndarray.types.DataType.INT64);
        for (PretrainedModel m : List.of(
                new BertModel(c),
                new BertForSequenceClassification(c),
                new BertForTokenClassification(c),
                new BertForQuestionAnswering(c),
                new BertForMaskedLM(c))) {
            m.initialize(manager);
            NDList out = m.predict(new NDList(ids, mask));
            Shape[] declared = m.getOutputShapes(new Shape[] {ids.getShape(), mask.getShape()});
            assertEquals(declared.length, out.size(), m.getClass().getSimpleName());
            for (int i = 0; i < declared.length; i++) {
                assertEquals(declared[i], out.get(i).getShape(), m.getClass().getSimpleName() + " output " + i);
            }
        }
    }
}
