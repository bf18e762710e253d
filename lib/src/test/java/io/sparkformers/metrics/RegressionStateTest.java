package io.sparkformers.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RegressionStateTest {
    private static final double EPS = 1e-12;

    @Test
    void mseAndMaeMatchScikitLearnDocExamples() {
        // mean_squared_error([3, -0.5, 2, 7], [2.5, 0.0, 2, 8]) = 0.375; mean_absolute_error(...) = 0.5
        RegressionState s =
                new RegressionState().addAll(new float[] {2.5f, 0.0f, 2f, 8f}, new float[] {3f, -0.5f, 2f, 7f});
        Map<String, Double> m = s.compute();
        assertEquals(0.375, m.get("mse"), EPS);
        assertEquals(0.5, m.get("mae"), EPS);
        assertEquals(Math.sqrt(0.375), m.get("rmse"), EPS);
    }

    @Test
    void pearsonMatchesHandComputedCorrelation() {
        // x = [1,2,3,4,5], y = [2,4,5,4,5]: cov 6, var x 10, var y 6 (sums of squared deviations)
        RegressionState s = new RegressionState().addAll(new float[] {1, 2, 3, 4, 5}, new float[] {2, 4, 5, 4, 5});
        assertEquals(6.0 / Math.sqrt(10.0 * 6.0), s.pearson(), EPS);
    }

    @Test
    void pearsonIsNaNForConstantPredictions() {
        RegressionState s = new RegressionState().addAll(new float[] {1, 1, 1}, new float[] {1, 2, 3});
        assertTrue(Double.isNaN(s.pearson()));
    }

    @Test
    void mergingSplitsGivesBitIdenticalMetricsInAnyOrder() {
        // sums of doubles in a different order would differ in the last bits; exact sums must not
        Random rnd = new Random(11);
        RegressionState all = new RegressionState();
        RegressionState[] parts = {new RegressionState(), new RegressionState(), new RegressionState()};
        for (int i = 0; i < 2000; i++) {
            double y = rnd.nextGaussian() * 1e3;
            double p = y + rnd.nextGaussian() * 1e-3 + 1e-7 * i;
            all.add(p, y);
            parts[rnd.nextInt(3)].add(p, y);
        }
        RegressionState left = parts[0].merge(parts[1]).merge(parts[2]);
        RegressionState right = parts[2].merge(parts[0].merge(parts[1]));
        assertEquals(all, left);
        assertEquals(all.compute(), left.compute());
        assertEquals(all.compute(), right.compute());
    }
}
