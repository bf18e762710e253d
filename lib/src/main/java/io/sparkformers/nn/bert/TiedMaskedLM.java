package io.sparkformers.nn.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.HfBlock;
import io.sparkformers.nn.Losses;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What HF's {@code BertForMaskedLM} and {@code RobertaForMaskedLM} share (HF copies one into the other): the encoder
 * without pooler under the base-model prefix, then an LM head ({@link TiedLMHead}, under {@code headPath}) whose
 * decoder is tied to {@code <prefix>.embeddings.word_embeddings.weight}. Inputs as {@link BertModel}; output: logits
 * (B, T, V). The subclasses keep HF's names and child names.
 */
abstract class TiedMaskedLM extends BertPreTrainedModel {

    private final BertModel encoder;
    private final HfBlock head;
    private final String headPath;

    /**
     * @param head the LM head block, added as child {@code headName}
     * @param headPath the dotted path of the {@link TiedLMHead} ({@code cls.predictions} or {@code lm_head}): HF keeps
     *     {@code <headPath>.decoder.bias} as an alias of {@code <headPath>.bias}
     */
    TiedMaskedLM(BertConfig c, String headName, HfBlock head, String headPath) {
        super(c);
        encoder = addChildBlock(c.baseModelPrefix(), new BertModel(c, /* withPooler= */ false));
        this.head = addChildBlock(headName, head);
        this.headPath = headPath;
    }

    BertModel encoder() {
        return encoder;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray hidden = encoder.forward(ps, inputs, training).head(); // (B, T, H)
        NDArray words = ps.getValue(encoder.embeddings().wordEmbeddings().weight(), hidden.getDevice(), training);
        return head.forward(ps, new NDList(hidden, words), training); // (B, T, V)
    }

    /** HF's loss: cross-entropy over tokens, labels (B, T) int64 with -100 for unmasked tokens. */
    public NDArray loss(NDArray logits, NDArray labels) {
        return Losses.crossEntropy(logits, labels);
    }

    @Override
    public List<Pattern> ignoredOnLoad() {
        return BertModel.ignoredKeys(false, true);
    }

    /** HF keeps {@code <headPath>.decoder.bias} as an alias of {@code <headPath>.bias}. */
    @Override
    public Map<String, String> checkpointAliases() {
        return Map.of(headPath + ".decoder.bias", headPath + ".bias");
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0].add(config.vocabSize())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        encoder.initialize(manager, dataType, inputShapes);
        Shape hidden = inputShapes[0].add(config.hiddenSize());
        head.initialize(manager, dataType, hidden, new Shape(config.vocabSize(), config.hiddenSize()));
    }
}
