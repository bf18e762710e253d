package io.sparkformers.nn.vision.cnn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;
import io.sparkformers.nn.LayerScope;
import io.sparkformers.nn.vision.AdaptiveAvgPool2d;
import io.sparkformers.nn.vision.BatchNorm2d;
import io.sparkformers.nn.vision.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Port of torchvision {@code VGG} with {@code make_layers(cfg "D", batch_norm)}: VGG16 and VGG16-BN.
 * {@code features} (Conv2d 3×3 pad 1 [+ BatchNorm2d] + ReLU, MaxPool2d 2×2 after each stage), {@code avgpool}
 * (AdaptiveAvgPool2d(7, 7)), {@code classifier} (Linear, ReLU, Dropout, Linear, ReLU, Dropout, Linear: indices
 * 0, 3, 6 hold the weights). Input (B, 3, H, W) with H, W ≥ 32; output logits (B, num_classes).
 */
public final class Vgg extends CnnModel {

    /** torchvision's cfg "D" (VGG16): channels per conv, 0 for a max-pool ("M"). */
    private static final int[] CFG_D = {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0};

    private final Sequential features;
    private final AdaptiveAvgPool2d avgpool;
    private final Sequential classifier;
    private final List<List<String>> blocks = new ArrayList<>();
    private final long featureChannels;

    public Vgg(CnnConfig c) {
        super(c);
        boolean bn = c.modelType().startsWith("vgg16_bn");
        List<Block> layers = new ArrayList<>();
        int channels = 0;
        for (int v : CFG_D) {
            if (v == 0) {
                layers.add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)));
                continue;
            }
            channels = v * c.baseWidth() / 64;
            List<String> block = new ArrayList<>(List.of("features." + layers.size() + "."));
            layers.add(conv(channels, 3, 1, 1, true));
            if (bn) {
                block.add("features." + layers.size() + ".");
                layers.add(new BatchNorm2d(channels));
            }
            layers.add(Activation.reluBlock());
            blocks.add(block);
        }
        featureChannels = channels;
        features = addChildBlock("features", new Sequential(layers));
        avgpool = addChildBlock("avgpool", new AdaptiveAvgPool2d(7, 7));
        int hidden = c.classifierHiddenSize();
        classifier = addChildBlock(
                "classifier",
                new Sequential(List.of(
                        Linear.builder().setUnits(hidden).build(),
                        Activation.reluBlock(),
                        dropout(c),
                        Linear.builder().setUnits(hidden).build(),
                        Activation.reluBlock(),
                        dropout(c),
                        Linear.builder().setUnits(c.numClasses()).build())));
        blocks.add(List.of("classifier.0."));
        blocks.add(List.of("classifier.3."));
    }

    private static Dropout dropout(CnnConfig c) {
        return Dropout.builder().optRate((float) c.dropout()).build();
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(head(ps, features(ps, inputs.head(), training), training)); // (B, num_classes)
    }

    /** classifier[6]: (B, hidden) -> (B, num_classes). */
    @Override
    public NDArray head(ParameterStore ps, NDArray features, boolean training) {
        return call(classifier.steps().get(6), ps, training, features);
    }

    /** Output of classifier[5], the input of the last Linear: (B, classifier_hidden_size). */
    @Override
    protected NDArray features(ParameterStore ps, NDArray pixelValues, boolean training) {
        NDArray x = call(features, ps, training, pixelValues); // (B, C, H/32, W/32)
        x = flatten(call(avgpool, ps, training, x)); // (B, C, 7, 7) -> (B, C·49)
        List<Block> steps = classifier.steps();
        for (int i = 0; i < 6; i++) {
            Block step = steps.get(i);
            x = LayerScope.apply(x, true, training, h -> call(step, ps, training, h));
        }
        return x;
    }

    @Override
    public long featureSize() {
        return config.classifierHiddenSize();
    }

    @Override
    public Set<String> headParameterNames() {
        return Set.of("classifier.6.weight", "classifier.6.bias");
    }

    @Override
    public List<List<String>> featureBlocks() {
        return List.copyOf(blocks);
    }

    /** torchvision VGG: Linear weight N(0, 0.01), bias 0. */
    @Override
    protected void initLinear(Linear linear, Parameter p) {
        p.setInitializer(p.getType() == Parameter.Type.WEIGHT ? normal(0.01) : Initializer.ZEROS);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), config.numClasses())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape x = inputShapes[0];
        features.initialize(manager, dataType, x);
        Shape f = features.getOutputShapes(new Shape[] {x})[0];
        avgpool.initialize(manager, dataType, f);
        classifier.initialize(manager, dataType, new Shape(x.get(0), featureChannels * 49));
    }
}
