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

    /** HF's loss for these logits (B, C): {@link Losses#sequenceClassification} with the config's problem_type. */
    public NDArray loss(NDArray logits, NDArray labels) {
        return Losses.sequenceClassification(config.problemType(), config.numLabels(), logits, labels);
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
