package io.sparkformers.nn.vision.vit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.LayerNorm;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Port of HF {@code ViTModel}: embeddings, pre-LayerNorm encoder, final {@code layernorm}, optional pooler.
 * Input: pixel_values (B, C, H, W), H and W multiples of patch_size (other sizes than image_size interpolate the
 * position table, see {@link ViTEmbeddings}). Outputs: last_hidden_state (B, 1 + N, D) and, with the pooler,
 * pooler_output (B, D).
 */
public final class ViTModel extends ViTPreTrainedModel {

    private final ViTEmbeddings embeddings;
    private final ViTEncoder encoder;
    private final LayerNorm layernorm;
    private final ViTPooler pooler;

    /** HF {@code ViTModel(config, add_pooling_layer=withPooler)}. */
    public ViTModel(ViTConfig c, boolean withPooler) {
        super(c);
        embeddings = addChildBlock("embeddings", new ViTEmbeddings(c));
        encoder = addChildBlock("encoder", new ViTEncoder(c));
        layernorm = addChildBlock("layernorm", new LayerNorm(c.hiddenSize(), c.layerNormEps()));
        pooler = withPooler ? addChildBlock("pooler", new ViTPooler(c)) : null;
    }

    /** With pooler, like {@code ViTModel(config)}. */
    public ViTModel(ViTConfig c) {
        this(c, true);
    }

    public ViTEmbeddings embeddings() {
        return embeddings;
    }

    public boolean hasPooler() {
        return pooler != null;
    }

    @Override
    public ViTModel vit() {
        return this;
    }

    @Override
    public boolean isBaseModel() {
        return true;
    }

    /** Checkpoints of classification models have no pooler; a model without one ignores a checkpoint's pooler. */
    @Override
    public List<Pattern> ignoredOnLoad() {
        return hasPooler() ? List.of() : List.of(Pattern.compile("(vit\\.)?pooler\\..*"));
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = call(embeddings, ps, training, inputs.head()); // (B, 1 + N, D)
        NDArray last = call(layernorm, ps, training, call(encoder, ps, training, x));
        if (pooler == null) return new NDList(last);
        return new NDList(last, call(pooler, ps, training, last)); // (B, 1 + N, D), (B, D)
    }

    /** pooler_output with the pooler, else the [CLS] row of last_hidden_state: (B, D). */
    @Override
    protected NDArray features(ParameterStore ps, NDArray pixelValues, boolean training) {
        NDList out = forward(ps, new NDList(pixelValues), training);
        return pooler != null ? out.get(1) : out.head().get(new NDIndex(":, 0"));
    }

    /** The bare encoder has no head: load the checkpoint with a classification head instead. */
    @Override
    public NDArray head(ParameterStore ps, NDArray features, boolean training) {
        throw new UnsupportedOperationException("ViTModel has no classification head; load the checkpoint as "
                + "ViTForImageClassification (VisionModels.fromPretrained(dir, true))");
    }

    @Override
    public long featureSize() {
        return config.hiddenSize();
    }

    @Override
    public Set<String> headParameterNames() {
        return Set.of();
    }

    @Override
    public List<List<String>> featureBlocks() {
        return blocks("", config, hasPooler());
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape hidden = embeddings.getOutputShapes(inputShapes)[0];
        if (pooler == null) return new Shape[] {hidden};
        return new Shape[] {hidden, new Shape(hidden.get(0), config.hiddenSize())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        embeddings.initialize(manager, dataType, inputShapes[0]);
        Shape hidden = embeddings.getOutputShapes(inputShapes)[0];
        encoder.initialize(manager, dataType, hidden);
        layernorm.initialize(manager, dataType, hidden);
        if (pooler != null) pooler.initialize(manager, dataType, hidden);
    }
}
