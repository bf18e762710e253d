package io.sparkformers.nn.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.HeadSplit;
import io.sparkformers.nn.Losses;
import io.sparkformers.nn.bart.BartClassificationHead;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Port of HF {@code RobertaForSequenceClassification} (RoBERTa, XLM-RoBERTa): the encoder without pooler, then
 * {@code classifier} = HF's {@code RobertaClassificationHead} on the first token ({@code <s>}):
 * out_proj(dropout(tanh(dense(dropout(x))))), the layout of {@link BartClassificationHead}. Inputs as
 * {@link BertModel}; output: logits (B, num_labels).
 */
public final class RobertaForSequenceClassification extends BertPreTrainedModel implements HeadSplit {

    private static final NDIndex FIRST_TOKEN = new NDIndex(":, 0");

    private final BertModel roberta;
    private final BartClassificationHead classifier;

    public RobertaForSequenceClassification(BertConfig c) {
        super(requireRoberta(c, "RobertaForSequenceClassification"));
        roberta = addChildBlock(c.baseModelPrefix(), new BertModel(c, /* withPooler= */ false));
        classifier = addChildBlock("classifier", new BartClassificationHead(c.hiddenSize(), c.numLabels(), (float)
                c.classifierDropoutOrHidden()));
    }

    public BertModel roberta() {
        return roberta;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return head(ps, encode(ps, inputs, training), training);
    }

    /**
     * HF's loss for these logits (B, C), as {@code BertForSequenceClassification}'s: {@link
     * Losses#sequenceClassification} with the config's problem_type.
     */
    public NDArray loss(NDArray logits, NDArray labels) {
        return Losses.sequenceClassification(config.problemType(), config.numLabels(), logits, labels);
    }

    @Override
    public NDArray encode(ParameterStore ps, NDList inputs, boolean training) {
        return roberta.lastHiddenState(ps, inputs, training); // (B, T, H)
    }

    @Override
    public NDList head(ParameterStore ps, NDArray lastHiddenState, boolean training) {
        NDArray first = lastHiddenState.get(FIRST_TOKEN); // (B, H): <s>
        return classifier.forward(ps, new NDList(first), training); // (B, C)
    }

    @Override
    public List<Pattern> ignoredOnLoad() {
        return BertModel.ignoredKeys(false, false);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), config.numLabels())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        roberta.initialize(manager, dataType, inputShapes);
        classifier.initialize(manager, dataType, new Shape(inputShapes[0].get(0), config.hiddenSize()));
    }

    /** The RoBERTa-layout heads are for RoBERTa and XLM-RoBERTa only (BERT's are {@code Bert…}). */
    static BertConfig requireRoberta(BertConfig c, String head) {
        if ("bert".equals(c.modelType())) {
            throw new IllegalArgumentException(head + " is not supported for model_type 'bert': use Bert"
                    + head.substring("Roberta".length()) + " (HF's BERT head has another layout)");
        }
        return c;
    }
}
