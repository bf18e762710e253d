package io.sparkformers.nn.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.sparkformers.nn.CausalLanguageModel;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.NoGrad;
import io.sparkformers.nn.SharedLayout;
import io.sparkformers.nn.Task;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Llama inference path over shared weight storage ({@link SharedProjection}, {@link SharedLayout}) and the head
 * computed for kept positions only (logits_to_keep), against the transformers references of
 * {@link LlamaForCausalLMParityTest} (lib/src/test/python/make_llama_references.py).
 */
class SharedProjectionTest {

    private NDManager manager;

    @BeforeEach
    void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void close() {
        manager.close();
    }

    private Map<String, NDArray> reference(String name) throws IOException {
        return LlamaForCausalLMParityTest.reference(manager, name);
    }

    /** max |a - b| over real tokens (padded queries see no key; their output is never used). */
    private static double maxDiff(NDArray a, NDArray b, NDArray mask) {
        NDArray keep = mask.toType(DataType.FLOAT32, false).expandDims(2);
        return a.mul(keep).sub(b.mul(keep)).abs().max().getFloat();
    }

    @Test
    void sharingKeepsEveryWeightAndFusesThemInOrder() {
        try (NoGrad g = NoGrad.enter()) {
            NDArray a = manager.create(new float[] {1, 2, 3, 4, 5, 6}, new Shape(3, 2));
            NDArray b = manager.create(new float[] {7, 8}, new Shape(1, 2));
            NDArray fused = SharedLayout.share(a, b);
            assertEquals(new Shape(4, 2), fused.getShape());
            assertEquals(manager.create(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, new Shape(4, 2)), fused);
            assertEquals(manager.create(new float[] {1, 2, 3, 4, 5, 6}, new Shape(3, 2)), a);
            assertEquals(manager.create(new float[] {7, 8}, new Shape(1, 2)), b);
            a.set(new ai.djl.ndarray.index.NDIndex("0, 0"), 10f); // a parameter written in place ...
            assertEquals(10f, fused.getFloat(0, 0)); // ... is what the fused GEMM reads
            SharedLayout.unshare(a, b);
            a.set(new ai.djl.ndarray.index.NDIndex("0, 1"), 20f); // own storage again
            assertEquals(2f, fused.getFloat(0, 1));
            assertEquals(manager.create(new float[] {10, 20, 3, 4, 5, 6}, new Shape(3, 2)), a);
            assertEquals(manager.create(new float[] {7, 8}, new Shape(1, 2)), b);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "qwen2_bias", "llama3_tied"})
    void keptLogitsAreTheLastPositionOfTheFullHead(String name) throws IOException {
        Map<String, NDArray> ref = reference(name);
        try (HfModel hf = HfModel.fromPretrained(LlamaForCausalLMParityTest.dir(name), Task.CAUSAL_LM)) {
            CausalLanguageModel lm = (CausalLanguageModel) hf.block();
            NDArray ids = ref.get("input_ids");
            CausalLanguageModel.Step last =
                    lm.forward(ids, ref.get("attention_mask"), ref.get("position_ids"), null, 1);
            last.cache().close();
            long t = ids.getShape().get(1);
            assertEquals(
                    new Shape(ids.getShape().get(0), 1, lm.vocabSize()),
                    last.logits().getShape());
            NDArray expected = ref.get("prefill_logits").get(":, -1:, :"); // left padding: the last position is real
            double diff = expected.sub(last.logits()).abs().max().getFloat();
            assertTrue(diff < 1e-4, name + ": max |diff| = " + diff + " at position " + (t - 1));
        }
    }

    @Test
    void trainingForwardAfterInferenceRunsOnTheSameWeights() throws IOException {
        Map<String, NDArray> ref = reference("qwen2_bias"); // biases on q, k, v: they are shared too
        try (HfModel hf = HfModel.fromPretrained(LlamaForCausalLMParityTest.dir("qwen2_bias"), Task.CAUSAL_LM)) {
            CausalLanguageModel lm = (CausalLanguageModel) hf.block();
            NDArray mask = ref.get("attention_mask");
            NDList in = new NDList(ref.get("input_ids"), mask, ref.get("position_ids"));
            CausalLanguageModel.Step s = lm.forward(in.get(0), mask, in.get(2), null); // shares the storage
            s.cache().close();
            double inference = maxDiff(ref.get("prefill_logits"), s.logits(), mask);
            assertTrue(inference < 1e-4, "inference: max |diff| = " + inference);
            NDArray trained; // a training forward (grad mode on) gives each parameter its own storage back
            try (NDManager scope = manager.newSubManager()) {
                NDArray logits = hf.block()
                        .forward(new ParameterStore(scope, false), in, true)
                        .head();
                trained = logits.duplicate();
                trained.attach(manager);
            }
            double training = maxDiff(ref.get("prefill_logits"), trained, mask);
            assertTrue(training < 1e-4, "training forward after inference: max |diff| = " + training);
            CausalLanguageModel.Step again = lm.forward(in.get(0), mask, in.get(2), null); // shares again
            again.cache().close();
            double reshared = maxDiff(ref.get("prefill_logits"), again.logits(), mask);
            assertTrue(reshared < 1e-4, "inference after training: max |diff| = " + reshared);
        }
    }
}
