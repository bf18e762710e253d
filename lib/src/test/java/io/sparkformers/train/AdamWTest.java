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

    /**
     * A sharded step: two "ranks" each update their shares of the parameters (elements [0, 3) and [3, 6) of w, b
     * whole on one) and all of a table from its clipped .grad, then each copies the other's shares in (as the
     * all-gather does): parameters and state equal, bit for bit, a plain step on gradients clipped in place.
     */
    @Test
    void updatingSharesOfTheParametersOnTwoReplicasEqualsOneWholeStep() {
        float[] w0 = {0.3f, -0.7f, 1.1f, 0.05f, -2f, 0.9f};
        float[] b0 = {0.5f, -0.25f};
        float[][] gw = {{0.1f, 0.2f, -0.3f, 0.4f, 0.5f, -0.6f}, {0.7f, -0.1f, 0.2f, 0.0f, 0.3f, 0.1f}};
        float[][] gb = {{1.5f, -2f}, {0.25f, 3f}};
        float[][] gt = {{0f, 0f, 2f, -1f}, {4f, 0.5f, 0f, 0f}};
        float scale = 0.37f; // a clipping coefficient below 1
        try (NDManager m = NDManager.newBaseManager(Device.cpu());
                AdamW plain = new AdamW(ParamGroup.hfDefaults(1e-2, 0.1));
                AdamW rank0 = new AdamW(ParamGroup.hfDefaults(1e-2, 0.1));
                AdamW rank1 = new AdamW(ParamGroup.hfDefaults(1e-2, 0.1))) {
            List<NDArray> whole = List.of(
                    m.create(w0, new Shape(2, 3)),
                    m.create(b0),
                    m.create(new float[] {1f, 2f, 3f, 4f}, new Shape(2, 2)));
            List<List<NDArray>> replicas = List.of(
                    List.of(
                            m.create(w0, new Shape(2, 3)),
                            m.create(b0),
                            m.create(new float[] {1f, 2f, 3f, 4f}, new Shape(2, 2))),
                    List.of(
                            m.create(w0, new Shape(2, 3)),
                            m.create(b0),
                            m.create(new float[] {1f, 2f, 3f, 4f}, new Shape(2, 2))));
            for (NDArray a : whole) a.setRequiresGradient(true);
            for (List<NDArray> r : replicas) for (NDArray a : r) a.setRequiresGradient(true);
            String[] names = {"dense.weight", "dense.bias", "embeddings.word_embeddings.weight"};
            for (int t = 0; t < 2; t++) {
                float[] clippedW = new float[6];
                float[] clippedB = new float[2];
                float[] clippedT = new float[4];
                for (int i = 0; i < 6; i++) clippedW[i] = gw[t][i] * scale;
                for (int i = 0; i < 2; i++) clippedB[i] = gb[t][i] * scale;
                for (int i = 0; i < 4; i++) clippedT[i] = gt[t][i] * scale;
                setGradient(whole.get(0), clippedW);
                setGradient(whole.get(1), clippedB);
                setGradient(whole.get(2), clippedT);
                plain.step(refs(names, whole));
                java.util.BitSet table = new java.util.BitSet();
                table.set(2);
                for (int r = 0; r < 2; r++) {
                    List<NDArray> p = replicas.get(r);
                    setGradient(p.get(2), clippedT); // summed whole and clipped in place by the caller
                    NDArray sumW = m.create(gw[t]);
                    NDArray sumB = m.create(gb[t]);
                    List<DataParallel.Share> mine = r == 0
                            ? List.of(new DataParallel.Share(0, 0, 3, sumW.get("0:3")))
                            : List.of(
                                    new DataParallel.Share(0, 3, 6, sumW.get("3:6")),
                                    new DataParallel.Share(1, 0, 2, sumB));
                    AdamW replica = r == 0 ? rank0 : rank1;
                    replica.stepShares(refs(names, p), mine, table, scale);
                    replica.step(List.of(new ParamRef(names[2], p.get(2)))); // the table, in full
                }
                // the all-gather: rank 0 owns w[0:3], rank 1 w[3:6] and b
                float[] w = replicas.get(0).get(0).toFloatArray();
                float[] w1 = replicas.get(1).get(0).toFloatArray();
                System.arraycopy(w1, 3, w, 3, 3);
                float[] b = replicas.get(1).get(1).toFloatArray();
                for (List<NDArray> p : replicas) {
                    p.get(0).set(w);
                    p.get(1).set(b);
                }
            }
            for (int r = 0; r < 2; r++) {
                for (int i = 0; i < 3; i++) {
                    assertArrayEquals(
                            whole.get(i).toFloatArray(),
                            replicas.get(r).get(i).toFloatArray(),
                            0f,
                            names[i] + " on replica " + r);
                }
            }
            // each replica's state is right on its own shares: w.exp_avg[0:3] from rank 0, [3:6] and b from rank 1
            float[] m0 = rank0.stateArray(names[0], "exp_avg").toFloatArray();
            float[] m1 = rank1.stateArray(names[0], "exp_avg").toFloatArray();
            float[] want = plain.stateArray(names[0], "exp_avg").toFloatArray();
            for (int i = 0; i < 6; i++) assertEquals(want[i], i < 3 ? m0[i] : m1[i], 0f, "exp_avg " + i);
            assertArrayEquals(
                    plain.stateArray(names[1], "exp_avg_sq").toFloatArray(),
                    rank1.stateArray(names[1], "exp_avg_sq").toFloatArray(),
                    0f);
            assertEquals(2, rank0.stepCount(names[1]), "a parameter with no share here still counts its steps");
            assertTrue(rank0.updatesShares(refs(names, whole)));
            assertFalse(new AdamW(ParamGroup.single(1e-3, 0)).setFused(false).updatesShares(refs(names, whole)));
        }
    }

    private static List<ParamRef> refs(String[] names, List<NDArray> values) {
        List<ParamRef> out = new java.util.ArrayList<>();
        for (int i = 0; i < names.length; i++) out.add(new ParamRef(names[i], values.get(i)));
        return out;
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

    @Test
    void fusedUpdateAgreesWithTheOpByOpUpdateWithin1e6() {
        // libtorch's float sqrt is not correctly rounded (a vector math library; about 1 in 5 results sits 1 ulp off
        // the exact one), Java's is: the same operations in the same order land within a float32 ulp or so
        // shapes: a matrix, a bias, and one past the kernel's parallel chunk (the multi-threaded pass)
        long[][] shapes = {{7, 13}, {13}, {3, 70_001}};
        java.util.Random rnd = new java.util.Random(20);
        try (NDManager params = NDManager.newBaseManager(Device.cpu());
                AdamW fused = new AdamW(ParamGroup.hfDefaults(3e-3, 0.05));
                AdamW opByOp = new AdamW(ParamGroup.hfDefaults(3e-3, 0.05)).setFused(false)) {
            List<ParamRef> a = new java.util.ArrayList<>();
            List<ParamRef> b = new java.util.ArrayList<>();
            for (int k = 0; k < shapes.length; k++) {
                Shape s = new Shape(shapes[k]);
                float[] w = gaussian(rnd, (int) s.size(), 1f);
                String name = k == 1 ? "dense.bias" : "layer" + k + ".weight";
                a.add(new ParamRef(name, io.sparkformers.nn.NativeArrays.copyOf(params, w, s)));
                b.add(new ParamRef(name, io.sparkformers.nn.NativeArrays.copyOf(params, w, s)));
            }
            for (ParamRef r : a) r.value().setRequiresGradient(true);
            for (ParamRef r : b) r.value().setRequiresGradient(true);
            double[] multipliers = {1.0, 0.7, 0.2, 1.0};
            for (double mult : multipliers) {
                for (int k = 0; k < a.size(); k++) {
                    float[] g = gaussian(rnd, (int) a.get(k).value().size(), (float) mult);
                    setGradient(a.get(k).value(), g);
                    setGradient(b.get(k).value(), g);
                }
                fused.setLrMultiplier(mult);
                opByOp.setLrMultiplier(mult);
                fused.step(a);
                opByOp.step(b);
            }
            double worst = 0;
            for (int k = 0; k < a.size(); k++) {
                float[] want = b.get(k).value().toFloatArray();
                float[] got = a.get(k).value().toFloatArray();
                for (int i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(want[i] - got[i]));
                for (String slot : List.of("exp_avg", "exp_avg_sq")) {
                    String n = a.get(k).name();
                    assertArrayEquals(
                            opByOp.stateArray(n, slot).toFloatArray(),
                            fused.stateArray(n, slot).toFloatArray(),
                            n + "." + slot + " (no sqrt on the way: exact)");
                }
            }
            assertTrue(worst <= 1e-6, "max |diff| = " + worst);
            assertEquals(opByOp.stateDict().keySet(), fused.stateDict().keySet());
        }
    }

    @Test
    void fusedUpdateOfAStridedParameterUpdatesTheParameterItself() {
        // a transposed view is not contiguous: DJL's buffer of it is a copy, so the kernel must fall back
        float[] w0 = {0.5f, -1f, 2f, 0.25f, 3f, -0.5f};
        float[] g = {0.1f, -0.2f, 0.3f, 0.4f, -0.5f, 0.6f};
        try (NDManager params = NDManager.newBaseManager(Device.cpu());
                AdamW fused = new AdamW(ParamGroup.single(1e-2, 0.1));
                AdamW opByOp = new AdamW(ParamGroup.single(1e-2, 0.1)).setFused(false)) {
            NDArray strided = params.create(w0, new Shape(2, 3)).transpose();
            NDArray plain = params.create(w0, new Shape(2, 3)).transpose().duplicate();
            strided.setRequiresGradient(true);
            plain.setRequiresGradient(true);
            setGradient(strided, g);
            setGradient(plain, g);
            fused.step(List.of(new ParamRef("w", strided)));
            opByOp.step(List.of(new ParamRef("w", plain)));
            assertArrayEquals(plain.toFloatArray(), strided.toFloatArray());
            assertFalse(java.util.Arrays.equals(
                    params.create(w0, new Shape(2, 3)).transpose().toFloatArray(), strided.toFloatArray()));
        }
    }

    @Test
    void matchesTorchOptimAdamWWithHfGroupsAndASchedule() throws Exception {
        // lib/src/test/python/make_adamw_references.py: torch.optim.AdamW, decay and no-decay groups, 4 steps
        com.fasterxml.jackson.databind.JsonNode ref;
        try (var in = getClass().getResourceAsStream("/optim/adamw_torch.json")) {
            ref = new com.fasterxml.jackson.databind.ObjectMapper().readTree(in);
        }
        for (boolean useFused : new boolean[] {true, false}) {
            try (NDManager params = NDManager.newBaseManager(Device.cpu());
                    AdamW adam = new AdamW(
                                    ParamGroup.hfDefaults(
                                            ref.get("lr").asDouble(),
                                            ref.get("weight_decay").asDouble()),
                                    ref.get("betas").get(0).asDouble(),
                                    ref.get("betas").get(1).asDouble(),
                                    ref.get("eps").asDouble())
                            .setFused(useFused)) {
                List<ParamRef> refs = new java.util.ArrayList<>();
                for (var e : (Iterable<Map.Entry<String, com.fasterxml.jackson.databind.JsonNode>>)
                        () -> ref.get("shapes").fields()) {
                    long[] shape = new long[e.getValue().size()];
                    for (int i = 0; i < shape.length; i++)
                        shape[i] = e.getValue().get(i).asLong();
                    NDArray w = io.sparkformers.nn.NativeArrays.copyOf(
                            params, floats(ref.get("init").get(e.getKey())), new Shape(shape));
                    w.setRequiresGradient(true);
                    refs.add(new ParamRef(e.getKey(), w));
                }
                double worst = 0;
                for (com.fasterxml.jackson.databind.JsonNode step : ref.get("steps")) {
                    for (ParamRef r : refs)
                        setGradient(r.value(), floats(step.get("grads").get(r.name())));
                    adam.setLrMultiplier(step.get("multiplier").asDouble());
                    adam.step(refs);
                    for (ParamRef r : refs) {
                        float[] want = floats(step.get("params").get(r.name()));
                        float[] got = r.value().toFloatArray();
                        for (int i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(want[i] - got[i]));
                    }
                }
                assertTrue(worst <= 1e-6, (useFused ? "fused" : "op by op") + ": max |diff| = " + worst);
            }
        }
    }

    private static float[] floats(com.fasterxml.jackson.databind.JsonNode a) {
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = (float) a.get(i).asDouble();
        return out;
    }

    private static float[] gaussian(java.util.Random rnd, int n, float scale) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) out[i] = (float) rnd.nextGaussian() * scale;
        return out;
    }
}
