package io.sparkformers.nn.vision.vit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Port of HF {@code ViTForImageClassification}: {@code vit} (no pooler) then {@code classifier} on the [CLS] row
 * of the final hidden states. Input pixel_values (B, C, H, W); output logits (B, num_labels).
 */
public final class ViTForImageClassification extends ViTPreTrainedModel {

    private final ViTModel vit;
    private final Linear classifier;

    public ViTForImageClassification(ViTConfig c) {
        super(c);
        vit = addChildBlock("vit", new ViTModel(c, /* withPooler= */ false));
        classifier = addChildBlock(
                "classifier", Linear.builder().setUnits(c.numLabels()).build());
    }

    @Override
    public ViTModel vit() {
        return vit;
    }

    /** A checkpoint of a base model with a pooler loads here; its pooler is skipped, as HF does. */
    @Override
    public List<Pattern> ignoredOnLoad() {
        return List.of(Pattern.compile("(vit\\.)?pooler\\..*"));
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(head(ps, features(ps, inputs.head(), training), training)); // (B, num_labels)
    }

    /** classifier: (B, D) -> (B, num_labels). */
    @Override
    public NDArray head(ParameterStore ps, NDArray features, boolean training) {
        return call(classifier, ps, training, features);
    }

    /** The [CLS] row of vit's last_hidden_state: (B, D). */
    @Override
    protected NDArray features(ParameterStore ps, NDArray pixelValues, boolean training) {
        return call(vit, ps, training, pixelValues).get(new NDIndex(":, 0"));
    }

    @Override
    public long featureSize() {
        return config.hiddenSize();
    }

    @Override
    public Set<String> headParameterNames() {
        return Set.of("classifier.weight", "classifier.bias");
    }

    @Override
    public List<List<String>> featureBlocks() {
        return blocks("vit.", config, false);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), config.numLabels())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        vit.initialize(manager, dataType, inputShapes);
        classifier.initialize(manager, dataType, new Shape(inputShapes[0].get(0), config.hiddenSize()));
    }
}
