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

    /**
     * HF {@code BertForMaskedLM}'s loss: cross-entropy over the vocabulary at the chosen tokens, mean over the tokens
     * whose label is not -100 (outputs (B, T, V), labels (B, T)).
     */
    static TrainingLoss maskedLanguageModeling() {
        return Losses::crossEntropy;
    }

    /**
     * HF's causal-LM loss ({@code ForCausalLMLoss}): labels are the input ids, shifted inside the loss — the logits at
     * position t predict the label at t + 1 — cross-entropy mean over the shifted labels that are not -100 (outputs
     * (B, T, V), labels (B, T)). HF pads the labels with one -100 and shifts; dropping the last logits is the same.
     */
    static TrainingLoss causalLanguageModeling() {
        return (logits, labels) -> {
            long t = logits.getShape().get(1);
            return Losses.crossEntropy(logits.get(":, :{}", t - 1), labels.get(":, 1:")); // (B, T-1, V) vs (B, T-1)
        };
    }

    /**
     * HF {@code BertForQuestionAnswering}'s loss: (CE(start_logits, start_positions) + CE(end_logits, end_positions))
     * / 2, over outputs (B, T, 2) (start, end stacked on the last axis) and labels (B, 2): the heads'
     * {@link Losses#spanExtraction} (positions outside [0, T) are clamped to T and ignored, as HF does).
     */
    static TrainingLoss questionAnswering() {
        return (outputs, labels) -> Losses.spanExtraction(
                outputs.get(":, :, 0"), outputs.get(":, :, 1"), labels.get(":, 0"), labels.get(":, 1"));
    }
}
