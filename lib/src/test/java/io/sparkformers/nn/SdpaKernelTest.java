package io.sparkformers.nn;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link SdpaKernel} (torch's scaled_dot_product_attention in {@code sdpa.pt}) against softmax(Q K^T + mask) V computed
 * here in double precision, head by head, on a small fused (B, T, 3D) projection: without a mask, with HF's padding
 * mask (B, 1, 1, T) of 0 and the float32 minimum, and with a general additive mask (B, nh, T, T). The eager path the
 * callers fall back to ({@link ScaledDotProductAttention#attendScaled} over the three thirds) meets the same
 * reference, and the fallback is taken where the kernel cannot run: on another device, or when the module fails to
 * load or fails its self-check.
 */
class SdpaKernelTest {
    static final int B = 2;
    static final int T = 5;
    static final int HEADS = 3;
    static final int HS = 4;
    static final int D = HEADS * HS;

    @Test
    void kernelEqualsDoublePrecisionAttentionWithAndWithoutMasks() {
        assertTrue(SdpaKernel.available(Device.cpu()), "the scaled_dot_product_attention kernel should load on a CPU");
        float[] qkv = qkv();
        for (float[] mask : new float[][] {null, paddingMask(), generalMask()}) {
            try (NDManager m = NDManager.newBaseManager(Device.cpu());
                    NoGrad g = NoGrad.enter()) {
                float[] y = SdpaKernel.attend(m.create(qkv, new Shape(B, T, 3 * D)), mask(m, mask), HEADS)
                        .toFloatArray(); // (B, T, D)
                assertMatchesReference(y, qkv, mask, "kernel, " + describe(mask));
            }
        }
    }

    @Test
    void eagerFallbackEqualsTheSameReference() {
        float[] qkv = qkv();
        for (float[] mask : new float[][] {null, paddingMask(), generalMask()}) {
            try (NDManager m = NDManager.newBaseManager(Device.cpu());
                    NoGrad g = NoGrad.enter()) {
                NDList thirds = m.create(qkv, new Shape(B, T, 3 * D)).split(3, 2); // 3 × (B, T, D) views
                float[] y = ScaledDotProductAttention.attendScaled(
                                thirds.get(0), thirds.get(1), thirds.get(2), mask(m, mask), HEADS, p -> p)
                        .toFloatArray();
                assertMatchesReference(y, qkv, mask, "eager, " + describe(mask));
            }
        }
    }

    @Test
    void theKernelIsOnlyOfferedWhereItRuns() {
        assertFalse(SdpaKernel.available(Device.gpu()), "the scripted module runs on the CPU only");
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            assertNull(
                    ScriptedKernels.loadOptional(
                            "sdpa.pt",
                            m,
                            module -> {
                                throw new IllegalStateException("self-check gave [0.0, 0.0]");
                            },
                            "attention: kernel failed its self-check, using the eager path"),
                    "a module failing its self-check is not used");
            assertNull(
                    ScriptedKernels.loadOptional("no-such-kernel.pt", m, module -> {}, "using the eager path"),
                    "a module missing from the classpath is not used");
        }
    }

    /** HF's "1 then finfo.min" mask is additive: the second sequence's last two positions are padding. */
    private static float[] paddingMask() {
        float[] mask = new float[B * T]; // (B, 1, 1, T)
        mask[T + T - 1] = -Float.MAX_VALUE;
        mask[T + T - 2] = -Float.MAX_VALUE;
        return mask;
    }

    /** A bias per (batch, head, query, key), as a relative-position or causal mask adds. */
    private static float[] generalMask() {
        Random r = new Random(11);
        float[] mask = new float[B * HEADS * T * T];
        for (int i = 0; i < mask.length; i++) mask[i] = (float) (r.nextGaussian() * 2);
        return mask;
    }

    private static NDArray mask(NDManager m, float[] mask) {
        if (mask == null) return null;
        return mask.length == B * T ? m.create(mask, new Shape(B, 1, 1, T)) : m.create(mask, new Shape(B, HEADS, T, T));
    }

    private static String describe(float[] mask) {
        return mask == null ? "no mask" : mask.length == B * T ? "padding mask (B, 1, 1, T)" : "mask (B, nh, T, T)";
    }

    /** Queries (already scaled), keys and values side by side per position, head h in columns h·hs..(h+1)·hs. */
    private static float[] qkv() {
        Random r = new Random(7);
        float[] v = new float[B * T * 3 * D];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    private static void assertMatchesReference(float[] y, float[] qkv, float[] mask, String what) {
        double maxDiff = 0;
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < HEADS; h++) {
                for (int i = 0; i < T; i++) {
                    double[] score = new double[T];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < T; j++) {
                        double s = 0;
                        for (int d = 0; d < HS; d++) s += (double) at(qkv, b, i, 0, h, d) * at(qkv, b, j, 1, h, d);
                        if (mask != null) {
                            s += mask.length == B * T ? mask[b * T + j] : mask[((b * HEADS + h) * T + i) * T + j];
                        }
                        score[j] = s;
                        max = Math.max(max, s);
                    }
                    double sum = 0;
                    for (int j = 0; j < T; j++) sum += score[j] = Math.exp(score[j] - max);
                    for (int d = 0; d < HS; d++) {
                        double context = 0;
                        for (int j = 0; j < T; j++) context += score[j] / sum * at(qkv, b, j, 2, h, d);
                        maxDiff = Math.max(maxDiff, Math.abs(y[(b * T + i) * D + h * HS + d] - context));
                    }
                }
            }
        }
        assertTrue(maxDiff <= 1e-5, what + ": max |diff| = " + maxDiff);
    }

    /** Element d of head h of part p (0 query, 1 key, 2 value) at position t of sequence b in the (B, T, 3D) input. */
    private static float at(float[] qkv, int b, int t, int p, int h, int d) {
        return qkv[(b * T + t) * 3 * D + p * D + h * HS + d];
    }
}
