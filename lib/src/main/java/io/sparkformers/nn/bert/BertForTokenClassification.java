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
 * Port of HF {@code BertForTokenClassification} (and {@code RobertaForTokenClassification}, same layout):
 * classifier(dropout(last_hidden_state)). Inputs as {@link BertModel}; output: logits (B, T, num_labels).
 */
public final class BertForTokenClassification extends BertClassifierModel {

    public BertForTokenClassification(BertConfig c) {
        super(c, /* withPooler= */ false);
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray hidden = bert.forward(ps, inputs, training).head(); // (B, T, H)
        return classify(ps, hidden, training); // (B, T, C)
    }

    /** HF's loss: cross-entropy over all tokens, labels (B, T) int64 with -100 for tokens that do not count. */
    public NDArray loss(NDArray logits, NDArray labels) {
        return Losses.crossEntropy(logits, labels);
    }

    @Override
    public NDList head(ParameterStore ps, NDArray lastHiddenState, boolean training) {
        return classify(ps, lastHiddenState, training); // (B, T, C)
    }

    @Override
    public List<Pattern> ignoredOnLoad() {
        return BertModel.ignoredKeys(false, false);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0].add(config.numLabels())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        initialize(manager, dataType, inputShapes[0].add(config.hiddenSize()), inputShapes);
    }
}
