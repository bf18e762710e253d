package io.sparkformers.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import io.sparkformers.nn.bert.BertConfig;
import io.sparkformers.nn.bert.BertEmbeddings;
import io.sparkformers.nn.bert.BertForSequenceClassification;
import io.sparkformers.nn.bert.BertModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Masking, RoBERTa positions, inference mode. */
class BertBehaviourTest {

    private NDManager manager;

    @BeforeEach
    void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void close() {
        manager.close();
    }

    private static double maxAbsDiff(NDArray a, NDArray b) {
        return a.sub(b).abs().max().getFloat();
    }

    @Test
    void paddingDoesNotChangeRealTokens() {
        BertModel m = new BertModel(BertConfig.tiny());
        m.initialize(manager);
        StateDict.load(m, TestWeights.deterministic(m, 0.5), StateDict.Options.STRICT);
        NDList alone = m.predict(new NDList(
                manager.create(new long[] {2, 17, 33, 5}, new Shape(1, 4)),
                manager.create(new long[] {1, 1, 1, 1}, new Shape(1, 4))));
        NDList batch = m.predict(new NDList(
                manager.create(new long[] {2, 17, 33, 5, 0, 0, 8, 9, 0, 0, 0, 0}, new Shape(2, 6)),
                manager.create(new long[] {1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0}, new Shape(2, 6))));
        double d = maxAbsDiff(alone.get(0).get("0"), batch.get(0).get("0, 0:4"));
        assertTrue(d <= 1e-5, "last_hidden_state max |diff| = " + d);
        double p = maxAbsDiff(alone.get(1).get("0"), batch.get(1).get("0"));
        assertTrue(p <= 1e-5, "pooler_output max |diff| = " + p);
        NDList noMask = m.predict(new NDList(manager.create(new long[] {2, 17, 33, 5}, new Shape(1, 4))));
        assertTrue(maxAbsDiff(alone.get(0), noMask.get(0)) == 0, "an all-ones mask and no mask must agree exactly");
    }

    @Test
    void robertaPositionIdsStartAfterPaddingIdx() {
        BertConfig c = new BertConfig(
                100,
                32,
                2,
                4,
                37,
                "gelu",
                0.1,
                0.1,
                64,
                1,
                0.02,
                1e-5,
                1,
                "absolute",
                "roberta",
                null,
                ConfigJson.defaultLabels(2),
                null,
                null,
                null);
        BertEmbeddings e = new BertEmbeddings(c);
        NDArray ids = manager.create(new long[] {0, 31, 47, 2, 1, 1, 0, 5, 2, 9, 11, 2}, new Shape(2, 6));
        assertArrayEquals(
                new long[] {2, 3, 4, 5, 1, 1, 2, 3, 4, 5, 6, 7},
                e.positionIds(ids).toLongArray());
        BertEmbeddings bert = new BertEmbeddings(BertConfig.tiny());
        assertArrayEquals(new long[] {0, 1, 2, 3, 4, 5}, bert.positionIds(ids).toLongArray());
        assertTrue(new BertModel(c).baseModelPrefix().equals("roberta"));
    }

    /** Whether backward can run from {@code x}, i.e. an autograd graph was recorded (DJL's hasGradient cannot tell). */
    private static boolean recorded(NDArray x) {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(x.sum());
            return true;
        } catch (EngineException e) {
            return false;
        }
    }

    @Test
    void inferenceHasNoDropoutAndRecordsNoGradients() throws Exception {
        var m = new BertForSequenceClassification(BertConfig.tiny());
        m.initialize(manager);
        NDList in = new NDList(manager.create(new long[] {2, 17, 33, 5, 6, 7}, new Shape(2, 3)));
        // a fresh thread, as a Spark task gets: PyTorch's grad mode is on there by default
        var pool = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            pool.submit(() -> {
                        assertTrue(NoGrad.isGradMode(), "new threads start with grad mode on");
                        NDArray a = m.predict(in).head();
                        NDArray b = m.predict(in).head();
                        assertArrayEquals(a.toFloatArray(), b.toFloatArray());
                        assertFalse(recorded(a), "inference output must not be part of an autograd graph");
                        assertTrue(NoGrad.isGradMode(), "predict restores the thread's grad mode");
                        NDArray train = m.forward(new ParameterStore(manager, false), in, true)
                                .head();
                        assertTrue(recorded(train.sum()), "a training forward records the graph");
                        assertTrue(maxAbsDiff(train, a) > 0, "dropout is active in training");
                        return null;
                    })
                    .get();
        } finally {
            pool.shutdown();
        }
    }
}
