package io.sparkformers.nn.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import io.sparkformers.nn.HeadSplit;

/**
 * What HF's {@code BertForSequenceClassification} and {@code BertForTokenClassification} share: the encoder under
 * the base-model prefix, then {@code classifier(dropout(x))} with HF's {@code classifier_dropout} (else
 * {@code hidden_dropout_prob}) and {@code num_labels} units. The subclasses say what x is (pooled output or every
 * token) and keep HF's names.
 */
abstract class BertClassifierModel extends BertPreTrainedModel implements HeadSplit {

    final BertModel bert;
    private final Dropout dropout;
    private final Linear classifier;

    BertClassifierModel(BertConfig c, boolean withPooler) {
        super(c);
        bert = addChildBlock(c.baseModelPrefix(), new BertModel(c, withPooler));
        dropout = addChildBlock(
                "dropout",
                Dropout.builder().optRate((float) c.classifierDropoutOrHidden()).build());
        classifier = addChildBlock(
                "classifier", Linear.builder().setUnits(c.numLabels()).build());
    }

    public BertModel bert() {
        return bert;
    }

    /** classifier(dropout(x)): (…, H) → (…, num_labels). */
    final NDList classify(ParameterStore ps, NDArray x, boolean training) {
        return new NDList(call(classifier, ps, training, call(dropout, ps, training, x)));
    }

    @Override
    public NDArray encode(ParameterStore ps, NDList inputs, boolean training) {
        return bert.lastHiddenState(ps, inputs, training); // (B, T, H)
    }

    /** Initialises the encoder for {@code inputShapes} and the classifier for inputs of shape {@code x}. */
    final void initialize(NDManager manager, DataType dataType, Shape x, Shape... inputShapes) {
        bert.initialize(manager, dataType, inputShapes);
        dropout.initialize(manager, dataType, x);
        classifier.initialize(manager, dataType, x);
    }
}
