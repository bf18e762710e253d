package io.sparkformers.nn.vision.cnn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.LayerScope;
import io.sparkformers.nn.vision.BatchNorm2d;
import io.sparkformers.nn.vision.Sequential;
import io.sparkformers.nn.vision.VisionOps;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Port of torchvision {@code ResNet} for ResNet-18 (BasicBlock [2, 2, 2, 2]) and ResNet-50 (Bottleneck
 * [3, 4, 6, 3]): conv1 7×7/2 → bn1 → relu → maxpool 3×3/2 → layer1..layer4 (stride 1, 2, 2, 2) → global average
 * pool → fc. Stage widths are 1, 2, 4, 8 × {@code base_width} (torchvision: 64). Input (B, 3, H, W); output logits
 * (B, num_classes).
 */
public final class ResNet extends CnnModel {

    private final boolean bottleneck;
    private final Conv2d conv1;
    private final BatchNorm2d bn1;
    private final List<Sequential> layers = new ArrayList<>();
    private final Linear fc;
    private final long featureSize;
    private final List<List<String>> blocks = new ArrayList<>();

    public ResNet(CnnConfig c) {
        super(c);
        bottleneck = c.modelType().startsWith("resnet50");
        int[] depths = bottleneck ? new int[] {3, 4, 6, 3} : new int[] {2, 2, 2, 2};
        int expansion = bottleneck ? Bottleneck.EXPANSION : BasicBlock.EXPANSION;
        int width = c.baseWidth();
        conv1 = addChildBlock("conv1", conv(width, 7, 2, 3, false));
        bn1 = addChildBlock("bn1", new BatchNorm2d(width));
        blocks.add(List.of("conv1.", "bn1."));
        int inplanes = width;
        for (int stage = 0; stage < 4; stage++) {
            int planes = width << stage;
            List<Block> stageBlocks = new ArrayList<>();
            for (int i = 0; i < depths[stage]; i++) {
                int stride = i == 0 && stage > 0 ? 2 : 1;
                stageBlocks.add(
                        bottleneck
                                ? new Bottleneck(inplanes, planes, stride)
                                : new BasicBlock(inplanes, planes, stride));
                inplanes = planes * expansion;
                blocks.add(List.of("layer" + (stage + 1) + "." + i + "."));
            }
            layers.add(addChildBlock("layer" + (stage + 1), new Sequential(stageBlocks)));
        }
        featureSize = inplanes;
        fc = addChildBlock("fc", Linear.builder().setUnits(c.numClasses()).build());
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(head(ps, features(ps, inputs.head(), training), training)); // (B, num_classes)
    }

    /** fc: (B, 8 · base_width · expansion) -> (B, num_classes). */
    @Override
    public NDArray head(ParameterStore ps, NDArray features, boolean training) {
        return call(fc, ps, training, features);
    }

    /** The pooled output of layer4, the input of fc: (B, 8 · base_width · expansion). */
    @Override
    protected NDArray features(ParameterStore ps, NDArray pixelValues, boolean training) {
        NDArray x = call(bn1, ps, training, call(conv1, ps, training, pixelValues))
                .getNDArrayInternal()
                .relu();
        x = Pool.maxPool2d(x, new Shape(3, 3), new Shape(2, 2), new Shape(1, 1), false); // (B, w, H/4, W/4)
        for (Sequential layer : layers) { // (B, 8w·e, H/32, W/32)
            x = LayerScope.apply(x, true, training, h -> call(layer, ps, training, h));
        }
        return flatten(VisionOps.adaptiveAvgPool2d(x, 1, 1)); // (B, 8w·e)
    }

    @Override
    public long featureSize() {
        return featureSize;
    }

    @Override
    public Set<String> headParameterNames() {
        return Set.of("fc.weight", "fc.bias");
    }

    @Override
    public List<List<String>> featureBlocks() {
        return List.copyOf(blocks);
    }

    /** PyTorch's default Linear init (torchvision leaves fc as constructed). */
    @Override
    protected void initLinear(Linear linear, Parameter p) {
        p.setInitializer(uniformFanIn(featureSize));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), config.numClasses())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape x = inputShapes[0];
        conv1.initialize(manager, dataType, x);
        Shape h = conv1.getOutputShapes(new Shape[] {x})[0];
        bn1.initialize(manager, dataType, h);
        h = new Shape(h.get(0), h.get(1), (h.get(2) - 1) / 2 + 1, (h.get(3) - 1) / 2 + 1); // maxpool 3×3/2 pad 1
        for (Sequential layer : layers) {
            layer.initialize(manager, dataType, h);
            h = layer.getOutputShapes(new Shape[] {h})[0];
        }
        fc.initialize(manager, dataType, new Shape(x.get(0), featureSize));
    }
}
