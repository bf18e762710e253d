package io.sparkformers.nn.distilbert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.Losses;

/**
 * Port of HF {@code DistilBertForSequenceClassification}: classifier(dropout(relu(pre_classifier(hidden[:, 0])))).
 * Inputs as {@link DistilBertModel}; output: logits (B, num_labels).
 */
public final class DistilBertForSequenceClassification extends DistilBertPreTrainedModel {

    private final DistilBertModel distilbert;
    private final Linear preClassifier;
    private final Linear classifier;
    private final Dropout dropout;

    public DistilBertForSequenceClassification(DistilBertConfig c) {
        super(c);
        distilbert = addChildBlock("distilbert", new DistilBertModel(c));
        preClassifier = addChildBlock(
                "pre_classifier", Linear.builder().setUnits(c.dim()).build());
        classifier = addChildBlock(
                "classifier", Linear.builder().setUnits(c.numLabels()).build());
        dropout = addChildBlock(
                "dropout",
                Dropout.builder().optRate((float) c.seqClassifDropout()).build());
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray first = distilbert.forward(ps, inputs, training).head().get(new NDIndex(":, 0")); // (B, dim)
        NDArray h =
                call(preClassifier, ps, training, first).getNDArrayInternal().relu();
        return new NDList(call(classifier, ps, training, call(dropout, ps, training, h))); // (B, C)
    }

    /** HF's loss, chosen as in {@code BertForSequenceClassification.loss}. */
    public NDArray loss(NDArray logits, NDArray labels) {
        String type = config.problemType();
        if (type == null) {
            type = config.numLabels() == 1
                    ? "regression"
                    : labels.getDataType().isInteger() ? "single_label_classification" : "multi_label_classification";
        }
        return switch (type) {
            case "regression" ->
                config.numLabels() == 1
                        ? Losses.mse(logits.reshape(-1), labels.reshape(-1))
                        : Losses.mse(logits, labels);
            case "single_label_classification" -> Losses.crossEntropy(logits, labels);
            case "multi_label_classification" -> Losses.bceWithLogits(logits, labels);
            default -> throw new AssertionError(type);
        };
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), config.numLabels())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        distilbert.initialize(manager, dataType, inputShapes);
        Shape first = new Shape(inputShapes[0].get(0), config.dim());
        preClassifier.initialize(manager, dataType, first);
        classifier.initialize(manager, dataType, first);
        dropout.initialize(manager, dataType, first);
    }
}
