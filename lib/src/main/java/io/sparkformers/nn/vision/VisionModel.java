package io.sparkformers.nn.vision;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.nn.Losses;
import io.sparkformers.nn.NoGrad;
import io.sparkformers.nn.ParameterNames;
import io.sparkformers.nn.PretrainedModel;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An image model: input pixel_values (B, C, H, W) float32, already preprocessed (see
 * {@code io.sparkformers.vision.ImageProcessor}). Adds to {@link PretrainedModel} what transfer learning needs:
 * the split of parameter names into feature extractor ("base") and head, the ordered feature blocks (so the last
 * k can be unfrozen), freezing, and the penultimate features used by {@code image-feature-extraction}.
 *
 * <p>Buffers (BatchNorm running statistics, {@code num_batches_tracked}) are parameters that never require
 * gradients; {@link #trainableParameterNames()} leaves them out and freezing never touches them.
 */
public abstract class VisionModel extends PretrainedModel {

    /** The model's config.json (HF keys). */
    public abstract ObjectNode configJson();

    /** Channels of pixel_values (3 for RGB). */
    public abstract int numChannels();

    /** The image side used to allocate parameters at {@link #initialize(NDManager)} (any size runs later). */
    public abstract int imageSize();

    /** id → label of the classification head (empty for a bare feature extractor). */
    public abstract Map<Integer, String> id2label();

    /** Names of the head's parameters (the new layer of transfer learning); empty for a bare base model. */
    public abstract Set<String> headParameterNames();

    /**
     * The feature extractor's blocks, input side first, each as the name prefixes of its parameters (ViT:
     * {@code [vit.embeddings.]}, {@code [vit.encoder.layer.0.]}, …; ResNet: {@code [conv1., bn1.]},
     * {@code [layer1.0.]}, …; VGG-BN: {@code [features.0., features.1.]}, …): the units of "unfreeze the last k
     * blocks". Every base parameter falls under exactly one block.
     */
    public abstract List<List<String>> featureBlocks();

    /** Feature vectors per image, the input of the head: (B, D) (ViT: pooled or [CLS]; CNN: penultimate layer). */
    protected abstract NDArray features(ParameterStore ps, NDArray pixelValues, boolean training);

    /**
     * The head alone: features (B, D) → logits (B, num_labels), so that {@code forward(x) == head(features(x))}.
     * Trainers call it to run a frozen base apart from the head (feature extraction).
     */
    public abstract NDArray head(ParameterStore ps, NDArray features, boolean training);

    /** {@link #features} for callers outside the model: the base alone, (B, C, H, W) -> (B, D). */
    public final NDArray forwardFeatures(ParameterStore ps, NDArray pixelValues, boolean training) {
        return features(ps, pixelValues, training);
    }

    /** Width D of {@link #features}. */
    public abstract long featureSize();

    @Override
    protected int numInputs() {
        return 1;
    }

    /** Allocates every parameter (float32) for a (1, C, S, S) input with the architecture's initialisation. */
    @Override
    public VisionModel initialize(NDManager manager) {
        applyInitializers();
        initialize(manager, DataType.FLOAT32, new Shape(1, numChannels(), imageSize(), imageSize()));
        return this;
    }

    /** Sets the architecture's initializers (HF {@code _init_weights} / torchvision's constructor init). */
    protected abstract void applyInitializers();

    /** Penultimate features without autograd or dropout: (B, C, H, W) -> (B, D). */
    public NDArray predictFeatures(NDArray pixelValues) {
        try (NoGrad g = NoGrad.enter()) {
            return features(new ParameterStore(pixelValues.getManager(), false), pixelValues, false);
        }
    }

    /** Cross-entropy of logits (B, num_labels) against labels (B) int64: HF's single-label classification loss. */
    public NDArray loss(NDArray logits, NDArray labels) {
        return Losses.crossEntropy(logits, labels);
    }

    /** Names of parameters that take gradients (buffers excluded), in registration order. */
    public List<String> trainableParameterNames() {
        List<String> out = new ArrayList<>();
        ParameterNames.of(this).forEach((name, e) -> {
            if (!isBuffer(e)) out.add(name);
        });
        return out;
    }

    /** Names of base (feature extractor) parameters, buffers excluded. */
    public List<String> baseParameterNames() {
        Set<String> head = headParameterNames();
        return trainableParameterNames().stream().filter(n -> !head.contains(n)).toList();
    }

    /**
     * The parameters to train when only the head and the last {@code lastK} feature blocks learn: 0 = feature
     * extraction (head only), {@code featureBlocks().size()} or more = full fine-tuning.
     */
    public Set<String> parametersToTrain(int lastK) {
        if (lastK < 0) throw new IllegalArgumentException("lastK must be >= 0 but was " + lastK);
        List<List<String>> blocks = featureBlocks();
        List<String> open = blocks.subList(Math.max(0, blocks.size() - lastK), blocks.size()).stream()
                .flatMap(List::stream)
                .toList();
        Set<String> out = new LinkedHashSet<>();
        for (String n : trainableParameterNames()) {
            if (headParameterNames().contains(n) || open.stream().anyMatch(n::startsWith)) out.add(n);
        }
        return out;
    }

    /**
     * Freezes every base parameter except those of the last {@code lastK} feature blocks; the head stays
     * trainable. Buffers are untouched. Note that BatchNorm layers still update their running statistics when the
     * model runs in training mode, as in PyTorch.
     */
    public void freezeAllButLast(int lastK) {
        Set<String> train = parametersToTrain(lastK);
        ParameterNames.of(this).forEach((name, e) -> {
            if (!isBuffer(e)) e.parameter().freeze(!train.contains(name));
        });
    }

    /** Buffers: BatchNorm running statistics and counters, never trained. */
    public static boolean isBuffer(ParameterNames.Entry e) {
        return e.owner() instanceof BatchNorm2d
                && BatchNorm2d.BUFFERS.contains(e.parameter().getName());
    }

    /** PyTorch {@code torch.flatten(x, 1)}: (B, ...) -> (B, prod(...)). */
    protected static NDArray flatten(NDArray x) {
        return x.reshape(x.getShape().get(0), -1);
    }
}
