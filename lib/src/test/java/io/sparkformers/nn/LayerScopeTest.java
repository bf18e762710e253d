package io.sparkformers.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.sparkformers.nn.bert.BertConfig;
import io.sparkformers.nn.bert.BertModel;
import org.junit.jupiter.api.Test;

/** Inference frees each layer's intermediates when the layer ends; training keeps them for backward. */
class LayerScopeTest {

    private static BertConfig withLayers(int n) {
        BertConfig t = BertConfig.tiny();
        return new BertConfig(
                t.vocabSize(),
                t.hiddenSize(),
                n,
                t.numAttentionHeads(),
                t.intermediateSize(),
                t.hiddenAct(),
                t.hiddenDropoutProb(),
                t.attentionProbsDropoutProb(),
                t.maxPositionEmbeddings(),
                t.typeVocabSize(),
                t.initializerRange(),
                t.layerNormEps(),
                t.padTokenId(),
                t.positionEmbeddingType(),
                t.modelType(),
                t.architectures(),
                t.id2label(),
                t.problemType(),
                t.classifierDropout(),
                t.extra());
    }

    /** A padded batch of two, so the attention mask path runs too. */
    private static NDList batch(NDManager m) {
        return new NDList(
                m.create(new long[] {2, 17, 33, 5, 0, 0, 8, 9, 4, 7, 3, 6}, new Shape(2, 6)),
                m.create(new long[] {1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1}, new Shape(2, 6)));
    }

    /** Arrays left in the batch's manager after one forward: [inference, training]; also checks the model's. */
    private static int[] arraysLeft(int layers) {
        try (NDManager modelManager = NDManager.newBaseManager()) {
            BertModel m = new BertModel(withLayers(layers));
            m.initialize(modelManager);
            try (NDManager warm = NDManager.newBaseManager()) {
                m.predict(batch(warm)); // derives the fused inference weights once
            }
            int modelArrays = modelManager.getManagedArrays().size();
            int inference;
            try (NDManager b = NDManager.newBaseManager()) {
                NDList in = batch(b);
                int before = b.getManagedArrays().size();
                NDList out = m.predict(in);
                inference = b.getManagedArrays().size() - before;
                assertEquals(2, out.size());
                assertTrue(Float.isFinite(out.head().sum().getFloat()), "last_hidden_state is finite");
            }
            assertEquals(
                    modelArrays,
                    modelManager.getManagedArrays().size(),
                    "inference must not leave arrays in the model's manager");
            int training;
            try (NDManager b = NDManager.newBaseManager()) {
                NDList in = batch(b);
                int before = b.getManagedArrays().size();
                m.forward(new ParameterStore(b, false), in, true);
                training = b.getManagedArrays().size() - before;
            }
            return new int[] {inference, training};
        }
    }

    @Test
    void inferenceLeavesAsManyArraysForSixLayersAsForTwo() {
        int[] two = arraysLeft(2);
        int[] six = arraysLeft(6);
        assertEquals(two[0], six[0], "arrays an inference forward leaves behind must not grow with depth");
        assertTrue(six[1] > two[1], "training keeps every layer's arrays: " + two[1] + " (2 layers) vs " + six[1]);
        assertTrue(
                six[0] < two[1],
                "inference leaves fewer arrays (" + six[0] + ") than a 2-layer training forward (" + two[1] + ")");
    }
}
