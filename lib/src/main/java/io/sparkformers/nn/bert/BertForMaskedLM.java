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
 * Port of HF {@code BertForMaskedLM}: {@code cls.predictions} over last_hidden_state, decoder tied to
 * {@code bert.embeddings.word_embeddings.weight}. Inputs as {@link BertModel}; output: logits (B, T, V).
 * BERT only (RoBERTa's head is {@code lm_head.*}: {@link RobertaForMaskedLM}).
 */
public final class BertForMaskedLM extends BertPreTrainedModel {

    private final BertModel bert;
    private final BertOnlyMLMHead cls;

    public BertForMaskedLM(BertConfig c) {
        super(requireBert(c, "BertForMaskedLM", "lm_head.dense, lm_head.layer_norm, lm_head.bias"));
        bert = addChildBlock(c.baseModelPrefix(), new BertModel(c, /* withPooler= */ false));
        cls = addChildBlock("cls", new BertOnlyMLMHead(c));
    }

    public BertModel bert() {
        return bert;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray hidden = bert.forward(ps, inputs, training).head(); // (B, T, H)
        NDArray words = ps.getValue(bert.embeddings().wordEmbeddings().weight(), hidden.getDevice(), training);
        return cls.forward(ps, new NDList(hidden, words), training); // (B, T, V)
    }

    /** HF's loss: cross-entropy over tokens, labels (B, T) int64 with -100 for unmasked tokens. */
    public NDArray loss(NDArray logits, NDArray labels) {
        return Losses.crossEntropy(logits, labels);
    }

    @Override
    public List<Pattern> ignoredOnLoad() {
        return BertModel.ignoredKeys(false, true);
    }

    /** HF keeps {@code cls.predictions.decoder.bias} as an alias of {@code cls.predictions.bias}. */
    @Override
    public Map<String, String> checkpointAliases() {
        return Map.of("cls.predictions.decoder.bias", "cls.predictions.bias");
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0].add(config.vocabSize())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        bert.initialize(manager, dataType, inputShapes);
        Shape hidden = inputShapes[0].add(config.hiddenSize());
        cls.initialize(manager, dataType, hidden, new Shape(config.vocabSize(), config.hiddenSize()));
    }
}
