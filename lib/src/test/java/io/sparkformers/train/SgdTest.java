package io.sparkformers.train;

import static io.sparkformers.train.TrainTestSupport.setGradient;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.sparkformers.safetensors.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SgdTest {

    @Test
    void twoMomentumStepsWithCoupledWeightDecayMatchHandComputation() {
        // lr 0.1, momentum 0.9, wd 0.01, w = [1, -2]
        // step 1: d = g + wd·w = [0.51, 0.23]; buf = d;                   w = [0.949, -2.023]
        // step 2: d = [-1 + 0.00949, 0.5 - 0.02023] = [-0.99051, 0.47977]
        //         buf = 0.9·[0.51, 0.23] + d = [-0.53151, 0.68677];      w = [1.002151, -2.091677]
        try (NDManager params = NDManager.newBaseManager(Device.cpu());
                Sgd sgd = new Sgd(ParamGroup.single(0.1, 0.01), 0.9)) {
            NDArray w = params.create(new float[] {1f, -2f});
            w.setRequiresGradient(true);
            setGradient(w, new float[] {0.5f, 0.25f});
            sgd.step(List.of(new ParamRef("w", w)));
            assertArrayEquals(new float[] {0.949f, -2.023f}, w.toFloatArray(), 1e-6f);
            setGradient(w, new float[] {-1f, 0.5f});
            sgd.step(List.of(new ParamRef("w", w)));
            assertArrayEquals(new float[] {1.002151f, -2.091677f}, w.toFloatArray(), 1e-6f);
            assertArrayEquals(
                    new float[] {-0.53151f, 0.68677f},
                    sgd.stateDict().get("w.momentum_buffer").toFloatArray(),
                    1e-6f);
        }
    }

    @Test
    void withoutMomentumItIsPlainGradientDescentWithNoState() {
        try (NDManager params = NDManager.newBaseManager(Device.cpu());
                Sgd sgd = new Sgd(ParamGroup.single(0.5, 0), 0)) {
            NDArray w = params.create(new float[] {1f, 2f});
            w.setRequiresGradient(true);
            setGradient(w, new float[] {1f, -1f});
            sgd.step(List.of(new ParamRef("w", w)));
            assertArrayEquals(new float[] {0.5f, 2.5f}, w.toFloatArray());
            assertTrue(sgd.stateDict().isEmpty());
        }
    }

    @Test
    void resumingFromExportedMomentumContinuesBitIdentically() {
        float[][] grads = {{0.3f, -0.1f, 0.2f}, {0.1f, 0.4f, -0.6f}, {-0.2f, 0.05f, 0.7f}};
        try (NDManager params = NDManager.newBaseManager(Device.cpu())) {
            NDArray straight = params.create(new float[] {0.2f, 0.4f, -0.8f});
            straight.setRequiresGradient(true);
            try (Sgd sgd = new Sgd(ParamGroup.single(0.05, 1e-3), 0.9)) {
                for (float[] g : grads) {
                    setGradient(straight, g);
                    sgd.step(List.of(new ParamRef("w", straight)));
                }
            }
            NDArray resumed = params.create(new float[] {0.2f, 0.4f, -0.8f});
            resumed.setRequiresGradient(true);
            Map<String, Tensor> checkpoint;
            try (Sgd first = new Sgd(ParamGroup.single(0.05, 1e-3), 0.9)) {
                setGradient(resumed, grads[0]);
                first.step(List.of(new ParamRef("w", resumed)));
                checkpoint = first.stateDict();
            }
            try (Sgd second = new Sgd(ParamGroup.single(0.05, 1e-3), 0.9)) {
                second.loadStateDict(checkpoint, Device.cpu());
                for (int t = 1; t < grads.length; t++) {
                    setGradient(resumed, grads[t]);
                    second.step(List.of(new ParamRef("w", resumed)));
                }
            }
            assertArrayEquals(straight.toFloatArray(), resumed.toFloatArray());
            assertEquals(
                    2,
                    ((ai.djl.ndarray.BaseNDManager) params).getManagedArrays().size(),
                    "only the two parameters remain on their manager");
        }
    }
}
