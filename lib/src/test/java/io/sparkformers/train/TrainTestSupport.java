package io.sparkformers.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;

/** Gives parameters known gradients through real autograd, the way the trainer will produce them. */
final class TrainTestSupport {
    private TrainTestSupport() {}

    /** Sets {@code w}'s gradient to exactly {@code grad} (backward of {@code sum(grad * w)}), replacing the old one. */
    static void setGradient(NDArray w, float[] grad) {
        Optimizer.zeroGrad(java.util.List.of(new ParamRef("w", w)));
        try (NDManager batch = w.getManager().newSubManager();
                GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray c = batch.create(grad, w.getShape());
            gc.backward(c.mul(w).sum());
        }
    }

    static double maxAbsDiff(float[] actual, double[] expected) {
        double max = 0;
        for (int i = 0; i < actual.length; i++) max = Math.max(max, Math.abs(actual[i] - expected[i]));
        return max;
    }
}
