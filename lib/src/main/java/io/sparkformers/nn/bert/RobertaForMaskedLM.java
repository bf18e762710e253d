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
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Port of HF {@code RobertaForMaskedLM} (RoBERTa, XLM-RoBERTa): {@link RobertaLMHead} ({@code lm_head}) over
 * last_hidden_state, decoder tied to {@code roberta.embeddings.word_embeddings.weight}. Inputs as
 * {@link BertModel}; output: logits (B, T, V).
 */
public final class RobertaForMaskedLM extends BertPreTrainedModel {

    private final BertModel roberta;
    private final RobertaLMHead lmHead;

    public RobertaForMaskedLM(BertConfig c) {
        super(RobertaForSequenceClassification.requireRoberta(c, "RobertaForMaskedLM"));
        roberta = addChildBlock(c.baseModelPrefix(), new BertModel(c, /* withPooler= */ false));
        lmHead = addChildBlock("lm_head", new RobertaLMHead(c));
    }

    public BertModel roberta() {
        return roberta;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray hidden = roberta.forward(ps, inputs, training).head(); // (B, T, H)
        NDArray words = ps.getValue(roberta.embeddings().wordEmbeddings().weight(), hidden.getDevice(), training);
        return lmHead.forward(ps, new NDList(hidden, words), training); // (B, T, V)
    }

    /** HF's loss: cross-entropy over tokens, labels (B, T) int64 with -100 for unmasked tokens. */
    public NDArray loss(NDArray logits, NDArray labels) {
        return Losses.crossEntropy(logits, labels);
    }

    @Override
    public List<Pattern> ignoredOnLoad() {
        return BertModel.ignoredKeys(false, true);
    }

    /** HF keeps {@code lm_head.decoder.bias} as an alias of {@code lm_head.bias}. */
    @Override
    public Map<String, String> checkpointAliases() {
        return Map.of("lm_head.decoder.bias", "lm_head.bias");
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0].add(config.vocabSize())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        roberta.initialize(manager, dataType, inputShapes);
        Shape hidden = inputShapes[0].add(config.hiddenSize());
        lmHead.initialize(manager, dataType, hidden, new Shape(config.vocabSize(), config.hiddenSize()));
    }
}
