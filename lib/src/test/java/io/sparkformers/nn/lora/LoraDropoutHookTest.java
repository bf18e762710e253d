package io.sparkformers.nn.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.NoGrad;
import io.sparkformers.nn.PretrainedModel;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The lora_dropout path reaches a layer only through the {@code AdapterStore} hook ({@code HfBlock.call},
 * {@code InferenceLinear}): a block that calls its Linear directly ({@code Linear.forward}, past the hook) fails a
 * training forward naming the layer instead of training without its adapter; the hooked layer beside it trains; and
 * inference, which merges the adapter into the weight, needs no hook.
 */
class LoraDropoutHookTest {

    static {
        System.setProperty("ai.djl.offline", "true");
    }

    /** Two Linears: {@code hooked} called through {@code call}, {@code direct} through DJL's own forward. */
    static final class TwoLinears extends PretrainedModel {
        private final Linear hooked =
                addChildBlock("hooked", Linear.builder().setUnits(6).build());
        private final Linear direct =
                addChildBlock("direct", Linear.builder().setUnits(3).build());

        @Override
        protected NDList forwardInternal(
                ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
            NDArray h = call(hooked, ps, training, inputs.head()); // (B, 4) -> (B, 6)
            return direct.forward(ps, new NDList(h), training); // (B, 6) -> (B, 3), past the hook
        }

        @Override
        protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
            hooked.initialize(manager, dataType, new Shape(1, 4)); // inputs (B, 4)
            direct.initialize(manager, dataType, new Shape(1, 6));
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            return new Shape[] {new Shape(inputShapes[0].get(0), 3)};
        }

        @Override
        public String baseModelPrefix() {
            return "";
        }

        @Override
        public ObjectNode configJson() {
            return Json.MAPPER.createObjectNode();
        }

        @Override
        public double initializerRange() {
            return 0.02;
        }

        @Override
        protected int numInputs() {
            return 1;
        }
    }

    @Test
    void anAdaptedLayerCalledPastTheHookFailsTheTrainingForwardNamingIt() {
        try (NDManager m = NDManager.newBaseManager()) {
            TwoLinears model = initialised(m);
            LoraModel lora = LoraModel.wrap(
                    model, LoraConfig.of(2, 4, List.of("hooked", "direct")).withLoraDropout(0.1));
            NDList x = new NDList(m.randomUniform(0, 1, new Shape(2, 4)));
            IllegalStateException e = assertThrows(
                    IllegalStateException.class, () -> lora.forward(new ParameterStore(m, false), x, true));
            assertTrue(
                    e.getMessage()
                            .startsWith("lora_dropout 0.1: the layers [direct] of TwoLinears were called "
                                    + "without the adapter hook"),
                    e.getMessage());
            try (NoGrad g = NoGrad.enter()) { // inference merges the adapter into the weight: no hook needed
                assertEquals(
                        new Shape(2, 3),
                        lora.forward(new ParameterStore(m, false), x, false)
                                .head()
                                .getShape());
            }
        }
    }

    @Test
    void aHookedLayerTrainsWithInvertedDropoutOnTheAdapterInput() {
        try (NDManager m = NDManager.newBaseManager()) {
            TwoLinears model = initialised(m);
            LoraModel lora =
                    LoraModel.wrap(model, LoraConfig.of(2, 4, List.of("hooked")).withLoraDropout(0.5));
            try (NoGrad g = NoGrad.enter()) {
                lora.adapted().get(0).loraB().getArray().addi(0.5f); // B = 0.5: an adapter that acts
                NDList x = new NDList(m.randomUniform(0, 1, new Shape(2, 4)));
                float[] eval = lora.forward(new ParameterStore(m, false), x, false)
                        .head()
                        .toFloatArray();
                int n = 2000;
                double[] sum = new double[eval.length];
                double[] sumSq = new double[eval.length];
                double moved = 0;
                for (int i = 0; i < n; i++) {
                    try (NDManager scope = m.newSubManager()) {
                        float[] y = lora.forward(new ParameterStore(scope, false), x, true)
                                .head()
                                .toFloatArray();
                        for (int j = 0; j < y.length; j++) {
                            sum[j] += y[j];
                            sumSq[j] += (double) y[j] * y[j];
                            moved = Math.max(moved, Math.abs(y[j] - eval[j]));
                        }
                    }
                }
                assertTrue(moved > 1e-3, "dropout on the adapter's input changes the output: " + moved);
                // PEFT's nn.Dropout scales kept inputs by 1 / (1 - p): the expected output is the eval output
                for (int j = 0; j < eval.length; j++) {
                    double mean = sum[j] / n;
                    double se = Math.sqrt(Math.max(sumSq[j] / n - mean * mean, 0) / n);
                    assertTrue(
                            Math.abs(mean - eval[j]) <= 5 * se + 1e-6,
                            "output " + j + ": mean over " + n + " draws " + mean + " vs eval " + eval[j] + " (se " + se
                                    + ")");
                }
            }
        }
    }

    private static TwoLinears initialised(NDManager m) {
        JniUtils.setSeed(5);
        TwoLinears model = new TwoLinears();
        model.initialize(m);
        return model;
    }
}
