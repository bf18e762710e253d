package io.sparkformers.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.hub.SentencePooling;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Sentence embeddings as sentence-transformers computes them: an encoder, then {@code Pooling} (mean over the
 * attention mask, or the first token) and optionally {@code Normalize} (L2). The encoder is the child named by its
 * base model prefix, so base checkpoints (sentence-transformers' {@code 0_Transformer} layout) load with the
 * prefix added. Inputs as the encoder (input_ids and attention_mask first); output: embeddings (B, H).
 */
public final class SentenceEmbedding extends PretrainedModel {

    private final PretrainedModel encoder;
    private final long hiddenSize;
    private final SentencePooling pooling;

    /**
     * @param encoder    a base model ({@link PretrainedModel#isBaseModel()}) whose first output is (B, T, H)
     * @param hiddenSize H
     * @param pooling    MEAN (sum of mask-weighted vectors / max(mask sum, 1e-9)) or CLS (first token), then, if
     *                   normalising, divide by max(L2 norm, 1e-12), as {@code F.normalize}
     */
    public SentenceEmbedding(PretrainedModel encoder, long hiddenSize, SentencePooling pooling) {
        if (!encoder.isBaseModel()) {
            throw new IllegalArgumentException("SentenceEmbedding wraps a base model, not "
                    + encoder.getClass().getSimpleName());
        }
        this.encoder = addChildBlock(encoder.baseModelPrefix(), encoder);
        this.hiddenSize = hiddenSize;
        this.pooling = pooling;
    }

    public SentencePooling pooling() {
        return pooling;
    }

    public PretrainedModel encoder() {
        return encoder;
    }

    @Override
    public com.fasterxml.jackson.databind.node.ObjectNode configJson() {
        return encoder.configJson();
    }

    @Override
    public boolean supportsBf16() {
        return encoder.supportsBf16();
    }

    @Override
    public String baseModelPrefix() {
        return encoder.baseModelPrefix();
    }

    @Override
    public double initializerRange() {
        return encoder.initializerRange();
    }

    @Override
    protected int numInputs() {
        return encoder.numInputs();
    }

    @Override
    public List<Pattern> ignoredOnLoad() {
        return encoder.ignoredOnLoad();
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray hidden = encoder.forward(ps, inputs, training).head(); // (B, T, H)
        NDArray pooled;
        if (pooling.mode() == SentencePooling.Mode.CLS) {
            pooled = hidden.get(new NDIndex(":, 0")); // (B, T, H) -> (B, H)
        } else {
            NDArray mask = inputs.size() > 1
                    ? inputs.get(1).toType(hidden.getDataType(), false).expandDims(2) // (B, T) -> (B, T, 1)
                    : hidden.getManager()
                            .ones(new Shape(
                                    hidden.getShape().get(0), hidden.getShape().get(1), 1));
            pooled = hidden.mul(mask)
                    .sum(new int[] {1}) // (B, H)
                    .div(NativeArrays.maximum(mask.sum(new int[] {1}), 1e-9f)); // (B, 1)
        }
        return new NDList(pooling.normalize() ? pooled.normalize(2, 1, 1e-12) : pooled);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), hiddenSize)};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        encoder.initialize(manager, dataType, inputShapes);
    }
}
