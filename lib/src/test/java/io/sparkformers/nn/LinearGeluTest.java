package io.sparkformers.nn;

import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The fused FP32 linear + GELU of inference ({@link LinearGelu}, {@link InferenceLinear#forwardGelu}) against a
 * double-precision reference computed here, HF's "gelu" 0.5·y·(1 + erf(y/√2)) of y = x W^T + b, and against the
 * op-by-op path (libtorch linear, then libtorch gelu) that training and grad mode keep.
 */
class LinearGeluTest {

    static final int IN = 48;
    static final int OUT = 96;

    @Test
    void fusedKernelEqualsDoublePrecisionGelu() {
        assertTrue(LinearGelu.available(Device.cpu()), "the oneDNN linear+GELU kernel should load on this CPU");
        Random r = new Random(7);
        float[] x = gaussian(r, 2 * 7 * IN, 1.0);
        float[] w = gaussian(r, OUT * IN, 0.3);
        float[] b = gaussian(r, OUT, 0.5);
        try (NDManager m = NDManager.newBaseManager(Device.cpu());
                NoGrad g = NoGrad.enter()) {
            NDArray packed = LinearGelu.pack(m.create(w, new Shape(OUT, IN)));
            float[] y = LinearGelu.apply(m.create(x, new Shape(2, 7, IN)), packed, m.create(b))
                    .toFloatArray(); // (2, 7, OUT)
            double maxDiff = 0;
            for (int row = 0; row < 2 * 7; row++) {
                for (int o = 0; o < OUT; o++) {
                    double z = b[o];
                    for (int i = 0; i < IN; i++) z += (double) x[row * IN + i] * w[o * IN + i];
                    double expected = 0.5 * z * (1 + erf(z / Math.sqrt(2)));
                    maxDiff = Math.max(maxDiff, Math.abs(y[row * OUT + o] - expected) / (1 + Math.abs(expected)));
                }
            }
            assertTrue(maxDiff <= 1e-5, "max relative |diff| = " + maxDiff);
        }
    }

    @Test
    void referenceErfMatchesPublishedValues() { // A&S table 7.1 and erf(3.5) from its series
        assertTrue(Math.abs(erf(1) - 0.8427007929497149) < 1e-14, "erf(1) = " + erf(1));
        assertTrue(Math.abs(erf(-0.5) + 0.5204998778130465) < 1e-14, "erf(-0.5) = " + erf(-0.5));
        assertTrue(Math.abs(erf(3.5) - 0.9999992569016276) < 1e-14, "erf(3.5) = " + erf(3.5));
    }

    @Test
    void inferenceForwardEqualsOpByOpAndFollowsChangedWeights() {
        Linear dense = Linear.builder().setUnits(OUT).build();
        InferenceLinear inference = new InferenceLinear(dense);
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            dense.initialize(m, DataType.FLOAT32, new Shape(3, 5, IN));
            ParameterStore ps = new ParameterStore(m, false);
            NDArray x = m.randomNormal(new Shape(3, 5, IN));
            assertClose(fused(inference, ps, x), inference.forwardGelu(ps, x, false)); // grad mode on: op by op

            NDArray weight = dense.getParameters().get("weight").getArray();
            weight.muli(-2); // a checkpoint load writes parameters in place, then says so
            inference.weightsChanged();
            NDArray after = fused(inference, ps, x);
            assertClose(after, inference.forwardGelu(ps, x, false));
            assertNotSame(after, x);
        }
    }

    private static NDArray fused(InferenceLinear inference, ParameterStore ps, NDArray x) {
        try (NoGrad g = NoGrad.enter()) {
            return inference.forwardGelu(ps, x, false);
        }
    }

    private static void assertClose(NDArray actual, NDArray expected) {
        float[] a = actual.toFloatArray();
        float[] e = expected.toFloatArray();
        double maxDiff = 0;
        for (int i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - e[i]));
        assertTrue(a.length == e.length && maxDiff <= 1e-5, "max |diff| = " + maxDiff);
    }

    private static float[] gaussian(Random r, int n, double sd) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * sd);
        return v;
    }

    /** erf by its Maclaurin series (|z| < 3) or its continued fraction (beyond), to ~1e-15. */
    static double erf(double z) {
        double a = Math.abs(z);
        double result;
        if (a < 3) {
            double term = a;
            double sum = a;
            for (int n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
                term *= -a * a / n;
                sum += term / (2 * n + 1);
            }
            result = 2 / Math.sqrt(Math.PI) * sum;
        } else {
            double f = 0; // erfc(a) = exp(-a²)/√π · 1/(a + 1/2/(a + 1/(a + 3/2/(a + …))))
            for (int k = 60; k >= 1; k--) f = (k / 2.0) / (a + f);
            result = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + f);
        }
        return Math.copySign(result, z);
    }
}
