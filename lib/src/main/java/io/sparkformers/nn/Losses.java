package io.sparkformers.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/** The losses HF heads compute from {@code labels}, with PyTorch's defaults (mean reduction). */
public final class Losses {

    /** PyTorch {@code CrossEntropyLoss}'s default {@code ignore_index}: tokens labelled -100 do not count. */
    public static final long IGNORE_INDEX = -100;

    private Losses() {}

    /**
     * {@code CrossEntropyLoss()(logits.view(-1, C), labels.view(-1))}: mean over the labels that are not
     * {@link #IGNORE_INDEX}.
     *
     * @param logits (..., C) float
     * @param labels (...) integer class ids
     */
    public static NDArray crossEntropy(NDArray logits, NDArray labels) {
        long numClasses = logits.getShape().get(logits.getShape().dimension() - 1);
        NDArray logp = logits.reshape(-1, numClasses).logSoftmax(-1); // (N, C)
        NDArray y = labels.reshape(-1).toType(DataType.INT64, false); // (N)
        NDArray keep = y.neq(IGNORE_INDEX);
        NDArray safe = y.mul(keep.toType(DataType.INT64, false)); // ignored -> class 0
        NDArray picked = logp.gather(safe.expandDims(1), 1).squeeze(1); // (N)
        NDArray mask = keep.toType(logp.getDataType(), false);
        return picked.mul(mask).sum().neg().div(mask.sum());
    }

    /** {@code BCEWithLogitsLoss()}: mean over all elements, in the stable form max(x,0) - x*y + log(1+e^-|x|). */
    public static NDArray bceWithLogits(NDArray logits, NDArray labels) {
        NDArray y = labels.toType(logits.getDataType(), false);
        NDArray x = logits;
        return NativeArrays.maximum(x, 0)
                .sub(x.mul(y))
                .add(x.abs().neg().exp().add(1f).log())
                .mean();
    }

    /** {@code MSELoss()}: mean squared error over all elements. */
    public static NDArray mse(NDArray predictions, NDArray targets) {
        NDArray d = predictions.sub(targets.toType(predictions.getDataType(), false));
        return d.mul(d).mean();
    }

    /**
     * HF's sequence-classification loss ({@code BertForSequenceClassification.forward}, which the DistilBERT and
     * RoBERTa heads copy): {@code problemType} from the config, else inferred as HF does (one label: regression;
     * integer labels: single-label; otherwise multi-label). Regression: MSE; single-label: cross-entropy over labels
     * (B) int64; multi-label: BCE-with-logits over labels (B, C) float.
     *
     * @param problemType the config's {@code problem_type}, null when unset
     * @param numLabels the config's {@code num_labels} (C)
     * @param logits (B, C)
     */
    public static NDArray sequenceClassification(String problemType, int numLabels, NDArray logits, NDArray labels) {
        String type = problemType;
        if (type == null) {
            type = numLabels == 1
                    ? "regression"
                    : labels.getDataType().isInteger() ? "single_label_classification" : "multi_label_classification";
        }
        return switch (type) {
            case "regression" -> numLabels == 1 ? mse(logits.reshape(-1), labels.reshape(-1)) : mse(logits, labels);
            case "single_label_classification" -> crossEntropy(logits, labels);
            case "multi_label_classification" -> bceWithLogits(logits, labels);
            default ->
                throw new IllegalArgumentException("unknown problem_type '" + type + "' (supported: "
                        + "regression, single_label_classification, multi_label_classification)");
        };
    }

    /**
     * HF's extractive question-answering loss ({@code BertForQuestionAnswering.forward} and its copies): the mean of
     * the start and end cross-entropies, positions (B) clamped to [0, T] with T (an answer truncated away) ignored.
     *
     * @param startLogits (B, T)
     * @param endLogits (B, T)
     */
    public static NDArray spanExtraction(
            NDArray startLogits, NDArray endLogits, NDArray startPositions, NDArray endPositions) {
        long t = startLogits.getShape().get(1);
        return NativeArrays.div(
                crossEntropy(startLogits, ignoredPast(startPositions, t))
                        .add(crossEntropy(endLogits, ignoredPast(endPositions, t))),
                2);
    }

    /** HF's {@code clamp(0, ignored_index)} with {@code ignore_index=T}: T and beyond become {@link #IGNORE_INDEX}. */
    private static NDArray ignoredPast(NDArray positions, long t) {
        NDArray p = positions.toType(DataType.INT64, false).clip(0, t);
        NDArray past = p.eq(t).toType(DataType.INT64, false);
        return p.sub(past.mul(t - IGNORE_INDEX)); // T -> -100
    }
}
