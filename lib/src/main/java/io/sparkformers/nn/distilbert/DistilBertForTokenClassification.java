package io.sparkformers.nn.distilbert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.Losses;

/**
 * Port of HF {@code DistilBertForTokenClassification}: classifier(dropout(last_hidden_state)), dropout at HF's
 * {@code dropout}. Inputs as {@link DistilBertModel}; output: logits (B, T, num_labels).
 */
public final class DistilBertForTokenClassification extends DistilBertPreTrainedModel {

    private final DistilBertModel distilbert;
    private final Dropout dropout;
    private final Linear classifier;

    public DistilBertForTokenClassification(DistilBertConfig c) {
        super(c);
        distilbert = addChildBlock("distilbert", new DistilBertModel(c));
        dropout = addChildBlock(
                "dropout", Dropout.builder().optRate((float) c.dropout()).build());
        classifier = addChildBlock(
                "classifier", Linear.builder().setUnits(c.numLabels()).build());
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray hidden = distilbert.forward(ps, inputs, training).head(); // (B, T, dim)
        return new NDList(call(classifier, ps, training, call(dropout, ps, training, hidden))); // (B, T, C)
    }

    /** HF's loss: cross-entropy over tokens, labels (B, T) int64 with -100 where no label applies. */
    public NDArray loss(NDArray logits, NDArray labels) {
        return Losses.crossEntropy(logits, labels);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0].add(config.numLabels())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        distilbert.initialize(manager, dataType, inputShapes);
        Shape hidden = inputShapes[0].add(config.dim());
        dropout.initialize(manager, dataType, hidden);
        classifier.initialize(manager, dataType, hidden);
    }
}
