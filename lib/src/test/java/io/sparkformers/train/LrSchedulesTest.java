package io.sparkformers.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Expected values are worked by hand from the formulas in transformers/optimization.py. */
class LrSchedulesTest {
    private static final double EPS = 1e-12;

    @Test
    void linearWarmsUpThenDecaysToZero() {
        LrSchedule s = LrSchedules.linear(2, 10);
        assertEquals(0.0, s.multiplier(0), EPS); // LambdaLR: the first step runs at 0 * lr during warm-up
        assertEquals(0.5, s.multiplier(1), EPS);
        assertEquals(1.0, s.multiplier(2), EPS); // (10 - 2) / 8
        assertEquals(0.5, s.multiplier(6), EPS); // (10 - 6) / 8
        assertEquals(0.0, s.multiplier(10), EPS);
        assertEquals(0.0, s.multiplier(12), EPS); // clamped at 0 past the end
    }

    @Test
    void cosineFollowsHalfCosineAfterWarmup() {
        LrSchedule s = LrSchedules.get("cosine", 2, 10, 1e-3);
        assertEquals(0.5, s.multiplier(1), EPS);
        assertEquals(1.0, s.multiplier(2), EPS);
        assertEquals(0.5 * (1 + Math.cos(Math.PI / 4)), s.multiplier(4), EPS); // progress 0.25
        assertEquals(0.8535533905932737, s.multiplier(4), EPS);
        assertEquals(0.5, s.multiplier(6), EPS); // progress 0.5: cos(π/2) = 0
        assertEquals(0.0, s.multiplier(10), EPS);
    }

    @Test
    void cosineWithHardRestartsJumpsBackToOneAtEachCycle() {
        LrSchedule s = LrSchedules.cosineWithHardRestarts(0, 10, 2);
        assertEquals(1.0, s.multiplier(0), EPS);
        assertEquals(0.5 * (1 + Math.cos(0.4 * Math.PI)), s.multiplier(2), EPS); // (2 · 0.2) % 1 = 0.4
        assertEquals(0.6545084971874737, s.multiplier(2), EPS);
        assertEquals(1.0, s.multiplier(5), EPS); // (2 · 0.5) % 1 = 0: restart
        assertEquals(0.0, s.multiplier(10), EPS); // progress >= 1
        assertEquals(0.5, LrSchedules.get("cosine_with_restarts", 0, 10, 1e-3).multiplier(5), EPS); // HF: 1 cycle
    }

    @Test
    void polynomialDecaysFromInitialLrToLrEnd() {
        LrSchedule s = LrSchedules.get("polynomial", 2, 10, 1e-3); // lr_end 1e-7, power 1
        assertEquals(0.5, s.multiplier(1), EPS);
        assertEquals(1.0, s.multiplier(2), EPS);
        assertEquals(((1e-3 - 1e-7) * 0.5 + 1e-7) / 1e-3, s.multiplier(6), EPS); // 1 - 4/8 remaining
        assertEquals(0.50005, s.multiplier(6), EPS);
        assertEquals(1e-4, s.multiplier(10), EPS);
        assertEquals(1e-4, s.multiplier(11), EPS); // lr_end / lr_init after the end
        LrSchedule squared = LrSchedules.polynomial(2, 10, 1e-7, 2.0, 1e-3);
        assertEquals(0.250075, squared.multiplier(6), EPS); // (1e-3 - 1e-7) · 0.25 + 1e-7
    }

    @Test
    void polynomialRejectsLrEndNotBelowInitialLr() {
        var e = assertThrows(IllegalArgumentException.class, () -> LrSchedules.polynomial(0, 10, 1e-3, 1.0, 1e-3));
        assertEquals("lr_end (0.001) must be smaller than initial lr (0.001)", e.getMessage());
    }

    @Test
    void constantSchedulesHoldOneAfterWarmup() {
        assertEquals(1.0, LrSchedules.get("constant", 5, 10, 1e-3).multiplier(0), EPS);
        LrSchedule s = LrSchedules.get("constant_with_warmup", 4, 10, 1e-3);
        assertEquals(0.0, s.multiplier(0), EPS);
        assertEquals(0.25, s.multiplier(1), EPS);
        assertEquals(1.0, s.multiplier(4), EPS);
        assertEquals(1.0, s.multiplier(1000), EPS);
    }

    @Test
    void zeroWarmupStepsStartAtFullRate() {
        assertEquals(1.0, LrSchedules.linear(0, 10).multiplier(0), EPS);
    }

    @Test
    void lrScalesTheBaseRateLikeLambdaLr() {
        assertEquals(2e-5 * 0.5, LrSchedules.linear(2, 10).lr(2e-5, 6), 1e-20);
    }

    @Test
    void unknownNameListsTheSupportedOnes() {
        var e = assertThrows(IllegalArgumentException.class, () -> LrSchedules.get("inverse_sqrt", 0, 10, 1e-3));
        assertTrue(
                e.getMessage().startsWith("unsupported lr_scheduler_type 'inverse_sqrt' (supported: [linear,"),
                e.getMessage());
    }
}
