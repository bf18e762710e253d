package io.sparkformers.train;

import ai.djl.ndarray.NDArray;
import io.sparkformers.nn.Losses;
import io.sparkformers.train.DataCollatorWithPadding.LabelKind;

/**
 * HF {@code Trainer.compute_loss}: the model's outputs and the batch labels → the scalar loss the loop back-propagates.
 * A task picks one; {@link #forLabelKind} gives HF's loss for each {@code problem_type}.
 */
@FunctionalInterface
public interface TrainingLoss {

    /** The mean loss of a batch (a scalar). */
    NDArray compute(NDArray outputs, NDArray labels);

    /**
     * Cross-entropy for single-label and token classification (token labels -100 ignored), with HF's label
     * smoothing when {@code labelSmoothing} &gt; 0; BCE-with-logits for multi-label; MSE for regression.
     */
    static TrainingLoss forLabelKind(LabelKind kind, double labelSmoothing) {
        if (labelSmoothing > 0 && kind != LabelKind.SINGLE_LABEL && kind != LabelKind.TOKEN) {
            throw new IllegalArgumentException("label_smoothing_factor applies to single-label and token "
                    + "classification, not " + kind + ": set it to 0");
        }
        return switch (kind) {
            case SINGLE_LABEL, TOKEN ->
                labelSmoothing > 0
                        ? (logits, labels) -> LabelSmoother.loss(logits, labels, labelSmoothing)
                        : Losses::crossEntropy;
            case MULTI_LABEL -> Losses::bceWithLogits;
            case REGRESSION -> (logits, labels) -> Losses.mse(logits.reshape(-1), labels.reshape(-1));
            case NONE -> throw new IllegalArgumentException("a training batch needs labels");
        };
    }
}
