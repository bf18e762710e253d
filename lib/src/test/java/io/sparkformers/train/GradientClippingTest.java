package io.sparkformers.train;

import static io.sparkformers.train.TrainTestSupport.setGradient;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import org.junit.jupiter.api.Test;

class GradientClippingTest {

    @Test
    void scalesAllGradientsByTheGlobalNormRatio() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray a = m.create(new float[] {3f, 4f});
            NDArray b = m.create(new float[] {12f});
            // total norm sqrt(9 + 16 + 144) = 13; coefficient 6.5 / (13 + 1e-6)
            double total = GradientClipping.clipGradNorm(List.of(a, b), 6.5);
            assertEquals(13.0, total, 1e-6);
            double coef = 6.5 / (13.0 + 1e-6);
            assertArrayEquals(new float[] {(float) (3 * coef), (float) (4 * coef)}, a.toFloatArray(), 1e-6f);
            assertArrayEquals(new float[] {(float) (12 * coef)}, b.toFloatArray(), 1e-6f);
        }
    }

    @Test
    void gradientsAtOrBelowTheLimitKeepTheirValues() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray a = m.create(new float[] {3f, 4f});
            assertEquals(5.0, GradientClipping.clipGradNorm(List.of(a), 5.0), 1e-6); // 5 / (5 + 1e-6) < 1: clips
            assertArrayEquals(new float[] {3f, 4f}, a.toFloatArray(), 1e-5f);
            NDArray c = m.create(new float[] {3f, 4f});
            GradientClipping.clipGradNorm(List.of(c), 20.0);
            assertArrayEquals(new float[] {3f, 4f}, c.toFloatArray()); // exactly unchanged
        }
    }

    @Test
    void clippingParamsChangesTheGradientsAutogradHolds() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray w = m.create(new float[] {1f, 1f});
            w.setRequiresGradient(true);
            setGradient(w, new float[] {6f, 8f});
            NDArray unused = m.create(new float[] {1f});
            unused.setRequiresGradient(true); // no gradient yet: skipped, not counted as zeros
            double total = GradientClipping.clipGradNormOfParams(
                    List.of(new ParamRef("w", w), new ParamRef("unused", unused)), 1.0);
            assertEquals(10.0, total, 1e-6);
            try (NDArray g = w.getGradient()) {
                assertArrayEquals(new float[] {0.6f, 0.8f}, g.toFloatArray(), 1e-6f);
            }
        }
    }

    @Test
    void rejectsNonPositiveMaxNorm() {
        var e = assertThrows(IllegalArgumentException.class, () -> GradientClipping.clipGradNorm(List.of(), 0));
        assertEquals("maxNorm must be > 0 but was 0.0", e.getMessage());
    }
}
