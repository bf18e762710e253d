package io.sparkformers.nn.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.Losses;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Port of HF {@code BertForSequenceClassification}: classifier(dropout(pooler_output)).
 * Inputs as {@link BertModel}; output: logits (B, num_labels). BERT only (RoBERTa's head is
 * {@code classifier.dense}/{@code classifier.out_proj}: {@link RobertaForSequenceClassification}).
 */
public final class BertForSequenceClassification extends BertClassifierModel {

    public BertForSequenceClassification(BertConfig c) {
        super(requireBert(c, "BertForSequenceClassification", "classifier.dense, classifier.out_proj"), true);
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray pooled = bert.forward(ps, inputs, training).get(1); // (B, H)
        return classify(ps, pooled, training); // (B, C)
    }

    /** HF's loss for these logits (B, C): {@link Losses#sequenceClassification} with the config's problem_type. */
    public NDArray loss(NDArray logits, NDArray labels) {
        return Losses.sequenceClassification(config.problemType(), config.numLabels(), logits, labels);
    }

    @Override
    public NDList head(ParameterStore ps, NDArray lastHiddenState, boolean training) {
        NDArray pooled = bert.pool(ps, lastHiddenState, training); // (B, H)
        return classify(ps, pooled, training); // (B, C)
    }

    @Override
    public List<Pattern> ignoredOnLoad() {
        return BertModel.ignoredKeys(true, false);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), config.numLabels())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        initialize(manager, dataType, new Shape(inputShapes[0].get(0), config.hiddenSize()), inputShapes);
    }
}
