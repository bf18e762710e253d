package io.sparkformers.train;

import static io.sparkformers.train.TrainTestSupport.maxAbsDiff;
import static io.sparkformers.train.TrainTestSupport.setGradient;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.sparkformers.safetensors.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AdamWTest {

    @Test
    void twoStepsMatchHandComputedAdamWWithWeightDecay() {
        float[] w0 = {0.5f, -1.0f, 2.0f, 0.0f};
        float[][] grads = {{0.1f, -0.2f, 0.3f, 0.0f}, {-0.05f, 0.4f, 0.3f, 1.0f}};
        double lr = 0.01;
        double wd = 0.1;
        double[] multipliers = {1.0, 0.5}; // second step at half rate, as a schedule would set it
        double b1 = 0.9;
        double b2 = 0.999;
        double eps = 1e-8;

        // Independent reference in double, from the AdamW definition (decoupled decay first, then Adam).
        double[] p = new double[w0.length];
        double[] m = new double[w0.length];
        double[] v = new double[w0.length];
        for (int i = 0; i < p.length; i++) p[i] = w0[i];
        for (int t = 1; t <= 2; t++) {
            double stepLr = lr * multipliers[t - 1];
            for (int i = 0; i < p.length; i++) {
                double g = grads[t - 1][i];
                p[i] = p[i] - stepLr * wd * p[i];
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                double mHat = m[i] / (1 - Math.pow(b1, t));
                double denom = Math.sqrt(v[i]) / Math.sqrt(1 - Math.pow(b2, t)) + eps;
                p[i] = p[i] - stepLr * mHat / denom;
            }
        }

        try (NDManager params = NDManager.newBaseManager(Device.cpu());
                AdamW adam = new AdamW(ParamGroup.single(lr, wd), b1, b2, eps)) {
            NDArray w = params.create(w0);
            w.setRequiresGradient(true);
            List<ParamRef> refs = List.of(new ParamRef("w", w));
            for (int t = 0; t < 2; t++) {
                setGradient(w, grads[t]);
                adam.setLrMultiplier(multipliers[t]);
                adam.step(refs);
            }
            double diff = maxAbsDiff(w.toFloatArray(), p);
            assertTrue(diff <= 1e-6, "max |diff| = " + diff);
            assertEquals(2, adam.stepCount("w"));
        }
    }

    @Test
    void hfDefaultGroupsExemptBiasAndLayerNormFromDecay() {
        double lr = 0.1;
        double wd = 0.5;
        try (NDManager params = NDManager.newBaseManager(Device.cpu());
                AdamW adam = new AdamW(ParamGroup.hfDefaults(lr, wd))) {
            List<ParamRef> refs = List.of(
                    new ParamRef("dense.weight", params.create(new float[] {1f, 2f})),
                    new ParamRef("dense.bias", params.create(new float[] {1f, 2f})),
                    new ParamRef("embeddings.LayerNorm.weight", params.create(new float[] {1f, 2f})));
            for (ParamRef r : refs) {
                r.value().setRequiresGradient(true);
                setGradient(r.value(), new float[] {0f, 0f}); // zero gradient: only the decay moves a weight
            }
            adam.step(refs);
            float keep = (float) (1 - lr * wd);
            assertArrayEquals(new float[] {keep, 2 * keep}, refs.get(0).value().toFloatArray(), 1e-7f);
            assertArrayEquals(new float[] {1f, 2f}, refs.get(1).value().toFloatArray());
            assertArrayEquals(new float[] {1f, 2f}, refs.get(2).value().toFloatArray());
            assertEquals(0.0, adam.groups().get(0).weightDecay());
        }
    }

    @Test
    void resumingFromExportedStateContinuesBitIdentically() {
        float[] w0 = {0.3f, -0.7f, 1.1f, 0.05f, -2f, 0.9f};
        float[][] grads = {
            {0.1f, 0.2f, -0.3f, 0.4f, 0.5f, -0.6f},
            {0.7f, -0.1f, 0.2f, 0.0f, 0.3f, 0.1f},
            {-0.2f, 0.2f, 0.9f, -0.4f, 0.1f, 0.3f},
            {0.05f, -0.5f, 0.6f, 0.2f, -0.1f, 0.8f}
        };
        try (NDManager params = NDManager.newBaseManager(Device.cpu())) {
            NDArray straight = params.create(w0, new Shape(2, 3));
            straight.setRequiresGradient(true);
            Map<String, Tensor> finalState;
            try (AdamW adam = new AdamW(ParamGroup.single(1e-2, 0.01))) {
                for (float[] g : grads) {
                    setGradient(straight, g);
                    adam.step(List.of(new ParamRef("w", straight)));
                }
                finalState = adam.stateDict();
            }

            NDArray resumed = params.create(w0, new Shape(2, 3));
            resumed.setRequiresGradient(true);
            Map<String, Tensor> checkpoint;
            try (AdamW first = new AdamW(ParamGroup.single(1e-2, 0.01))) {
                for (int t = 0; t < 2; t++) {
                    setGradient(resumed, grads[t]);
                    first.step(List.of(new ParamRef("w", resumed)));
                }
                checkpoint = first.stateDict();
            }
            assertEquals(java.util.Set.of("w.exp_avg", "w.exp_avg_sq", "w.step"), checkpoint.keySet());
            try (AdamW second = new AdamW(ParamGroup.single(1e-2, 0.01))) {
                second.loadStateDict(checkpoint, Device.cpu());
                assertEquals(2, second.stepCount("w"));
                for (int t = 2; t < 4; t++) {
                    setGradient(resumed, grads[t]);
                    second.step(List.of(new ParamRef("w", resumed)));
                }
                assertArrayEquals(straight.toFloatArray(), resumed.toFloatArray()); // exact, not within tolerance
                assertEquals(finalState, second.stateDict());
            }
        }
    }

    @Test
    void loadedStateLivesInLibtorchMemoryAsTheStateOfTheRunThatSavedIt() {
        Map<String, Tensor> saved = new java.util.LinkedHashMap<>();
        for (int n = 1; n <= 12; n++) {
            float[] v = new float[n];
            java.util.Arrays.fill(v, n);
            saved.put("p" + n + ".exp_avg", Tensor.ofFloats(v, new long[] {n}));
            saved.put("p" + n + ".exp_avg_sq", Tensor.ofFloats(v, new long[] {n}));
            saved.put("p" + n + ".step", Tensor.ofLongs(new long[] {3}));
        }
        try (AdamW adam = new AdamW(ParamGroup.single(1e-2, 0.0))) {
            adam.loadStateDict(saved, Device.cpu());
            Map<String, NDArray> state = new java.util.LinkedHashMap<>();
            for (int n = 1; n <= 12; n++) {
                for (String slot : List.of("exp_avg", "exp_avg_sq"))
                    state.put("p" + n + "." + slot, adam.stateArray("p" + n, slot));
            }
            assertEquals(
                    Map.of(),
                    io.sparkformers.nn.NativeArraysTest.misaligned(state),
                    "optimizer state off a 64-byte boundary (offset by name)");
            assertEquals(saved, adam.stateDict());
        }
    }

    @Test
    void closeFreesTheStateAndRefusesFurtherSteps() {
        try (NDManager params = NDManager.newBaseManager(Device.cpu())) {
            NDArray w = params.create(new float[] {1f, 2f});
            w.setRequiresGradient(true);
            AdamW adam = new AdamW(ParamGroup.single(1e-3, 0));
            setGradient(w, new float[] {1f, 1f});
            adam.step(List.of(new ParamRef("w", w)));
            NDArray m = adam.stateArray("w", "exp_avg");
            NDArray v = adam.stateArray("w", "exp_avg_sq");
            assertFalse(m.isReleased());
            adam.close();
            assertTrue(m.isReleased());
            assertTrue(v.isReleased());
            assertFalse(w.isReleased());
            var e = assertThrows(IllegalStateException.class, () -> adam.step(List.of(new ParamRef("w", w))));
            assertEquals("AdamW is closed", e.getMessage());
        }
    }

    @Test
    void stepsLeaveNoTemporariesBehind() {
        try (NDManager params = NDManager.newBaseManager(Device.cpu());
                AdamW adam = new AdamW(ParamGroup.single(1e-3, 0.01))) {
            NDArray w = params.create(new float[] {1f, 2f, 3f});
            w.setRequiresGradient(true);
            for (int t = 0; t < 5; t++) {
                setGradient(w, new float[] {0.1f * t, -0.2f, 0.3f});
                adam.step(List.of(new ParamRef("w", w)));
            }
            assertEquals(
                    1,
                    ((ai.djl.ndarray.BaseNDManager) params).getManagedArrays().size(),
                    "arrays left on the parameters' manager");
        }
    }

    @Test
    void stepsWorkWhileTheThreadHasGradModeOnAndRestoreIt() throws Exception {
        // torch refuses in-place updates of leaf tensors in grad mode, which is on by default in new threads
        try (NDManager params = NDManager.newBaseManager(Device.cpu());
                AdamW adam = new AdamW(ParamGroup.single(1e-2, 0))) {
            NDArray w = params.create(new float[] {1f, 2f});
            w.setRequiresGradient(true);
            setGradient(w, new float[] {1f, -1f});
            Throwable[] failure = new Throwable[1];
            boolean[] modeAfter = new boolean[1];
            Thread worker = new Thread(() -> {
                try {
                    ai.djl.pytorch.jni.JniUtils.setGradMode(true);
                    adam.step(List.of(new ParamRef("w", w)));
                    modeAfter[0] = ai.djl.pytorch.jni.JniUtils.isGradMode();
                } catch (Throwable t) {
                    failure[0] = t;
                }
            });
            worker.start();
            worker.join();
            assertNull(failure[0], () -> "step failed: " + failure[0]);
            assertTrue(modeAfter[0], "grad mode restored");
            assertArrayEquals(new float[] {0.99f, 2.01f}, w.toFloatArray(), 1e-6f); // first Adam step moves by lr
        }
    }

    @Test
    void parameterWithoutGradientIsSkippedLikeTorch() {
        try (NDManager params = NDManager.newBaseManager(Device.cpu());
                AdamW adam = new AdamW(ParamGroup.single(1e-2, 0.1))) {
            NDArray frozen = params.create(new float[] {1f, 2f});
            frozen.setRequiresGradient(true); // requires grad but never took part in a backward pass
            adam.step(List.of(new ParamRef("frozen", frozen)));
            assertArrayEquals(new float[] {1f, 2f}, frozen.toFloatArray());
            assertEquals(0, adam.stepCount("frozen"));
            assertNull(adam.stateArray("frozen", "exp_avg"));
        }
    }

    @Test
    void parameterOutsideEveryGroupIsRejectedByName() {
        try (NDManager params = NDManager.newBaseManager(Device.cpu());
                AdamW adam = new AdamW(List.of(new ParamGroup("encoder", n -> n.startsWith("encoder."), 1e-3, 0)))) {
            NDArray w = params.create(new float[] {1f});
            w.setRequiresGradient(true);
            setGradient(w, new float[] {1f});
            var e = assertThrows(
                    IllegalArgumentException.class, () -> adam.step(List.of(new ParamRef("classifier.weight", w))));
            assertEquals(
                    "parameter classifier.weight belongs to no parameter group (groups: [encoder])", e.getMessage());
        }
    }

    @Test
    void loadingStateWithAnUnknownKeyFails() {
        try (AdamW adam = new AdamW(ParamGroup.single(1e-3, 0))) {
            var e = assertThrows(
                    IllegalArgumentException.class,
                    () -> adam.loadStateDict(
                            Map.of("w.momentum_buffer", Tensor.ofFloats(new float[] {1f}, 1)), Device.cpu()));
            assertEquals(
                    "unexpected optimizer state key 'w.momentum_buffer' for AdamW (expected "
                            + "<param>.exp_avg|exp_avg_sq|step)",
                    e.getMessage());
        }
    }
}
