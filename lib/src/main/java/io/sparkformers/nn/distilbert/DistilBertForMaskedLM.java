package io.sparkformers.nn.distilbert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.Activations;
import io.sparkformers.nn.LayerNorm;
import io.sparkformers.nn.Losses;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * Port of HF {@code DistilBertForMaskedLM}: vocab_projector(vocab_layer_norm(act(vocab_transform(hidden)))), the
 * projector's weight tied to {@code distilbert.embeddings.word_embeddings.weight}. Output: logits (B, T, V).
 */
public final class DistilBertForMaskedLM extends DistilBertPreTrainedModel {

    private final UnaryOperator<NDArray> act;
    private final DistilBertModel distilbert;
    private final Linear vocabTransform;
    private final LayerNorm vocabLayerNorm;
    private final VocabProjector vocabProjector;

    public DistilBertForMaskedLM(DistilBertConfig c) {
        super(c);
        act = Activations.of(c.activation());
        distilbert = addChildBlock("distilbert", new DistilBertModel(c));
        vocabTransform = addChildBlock(
                "vocab_transform", Linear.builder().setUnits(c.dim()).build());
        vocabLayerNorm = addChildBlock("vocab_layer_norm", new LayerNorm(c.dim(), DistilBertConfig.LAYER_NORM_EPS));
        vocabProjector = addChildBlock("vocab_projector", new VocabProjector(c));
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray hidden = distilbert.forward(ps, inputs, training).head(); // (B, T, dim)
        NDArray h = call(vocabLayerNorm, ps, training, act.apply(call(vocabTransform, ps, training, hidden)));
        NDArray words = ps.getValue(distilbert.embeddings().wordEmbeddings().weight(), h.getDevice(), training);
        return vocabProjector.forward(ps, new NDList(h, words), training); // (B, T, V)
    }

    /** HF's loss: cross-entropy over tokens, labels (B, T) int64 with -100 for unmasked tokens. */
    public NDArray loss(NDArray logits, NDArray labels) {
        return Losses.crossEntropy(logits, labels);
    }

    @Override
    public List<Pattern> ignoredOnLoad() {
        return ignoredKeys(true);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0].add(config.vocabSize())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        distilbert.initialize(manager, dataType, inputShapes);
        Shape hidden = inputShapes[0].add(config.dim());
        vocabTransform.initialize(manager, dataType, hidden);
        vocabLayerNorm.initialize(manager, dataType, hidden);
        vocabProjector.initialize(manager, dataType, hidden, new Shape(config.vocabSize(), config.dim()));
    }
}
