package io.sparkformers.nn.vision.cnn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.HfBlock;
import io.sparkformers.nn.vision.BatchNorm2d;
import io.sparkformers.nn.vision.Sequential;
import java.util.List;

/**
 * Port of torchvision {@code Bottleneck} (ResNet-50/101, "ResNet V1.5": stride on the 3×3 conv2):
 * 1×1 conv1 → bn1 → relu → 3×3 conv2 (stride) → bn2 → relu → 1×1 conv3 (planes × 4) → bn3, plus the identity
 * or {@code downsample} = Sequential(conv 1×1 stride, BatchNorm2d), then relu.
 * (B, inplanes, H, W) -> (B, 4·planes, H/stride, W/stride).
 */
public final class Bottleneck extends HfBlock {

    /** Output channels per {@code planes}. */
    public static final int EXPANSION = 4;

    private final Conv2d conv1;
    private final BatchNorm2d bn1;
    private final Conv2d conv2;
    private final BatchNorm2d bn2;
    private final Conv2d conv3;
    private final BatchNorm2d bn3;
    private final Sequential downsample;

    public Bottleneck(int inplanes, int planes, int stride) {
        conv1 = addChildBlock("conv1", CnnModel.conv(planes, 1, 1, 0, false));
        bn1 = addChildBlock("bn1", new BatchNorm2d(planes));
        conv2 = addChildBlock("conv2", CnnModel.conv(planes, 3, stride, 1, false));
        bn2 = addChildBlock("bn2", new BatchNorm2d(planes));
        conv3 = addChildBlock("conv3", CnnModel.conv(planes * EXPANSION, 1, 1, 0, false));
        bn3 = addChildBlock("bn3", new BatchNorm2d(planes * EXPANSION));
        downsample = stride != 1 || inplanes != planes * EXPANSION
                ? addChildBlock(
                        "downsample",
                        new Sequential(List.of(
                                CnnModel.conv(planes * EXPANSION, 1, stride, 0, false),
                                new BatchNorm2d(planes * EXPANSION))))
                : null;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.head(); // (B, Cin, H, W)
        NDArray out = call(bn1, ps, training, call(conv1, ps, training, x))
                .getNDArrayInternal()
                .relu();
        out = call(bn2, ps, training, call(conv2, ps, training, out))
                .getNDArrayInternal()
                .relu();
        out = call(bn3, ps, training, call(conv3, ps, training, out)); // (B, 4·planes, H/s, W/s)
        NDArray identity = downsample == null ? x : call(downsample, ps, training, x);
        return new NDList(out.add(identity).getNDArrayInternal().relu());
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape h = conv2.getOutputShapes(conv1.getOutputShapes(inputShapes))[0];
        return conv3.getOutputShapes(new Shape[] {h});
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        conv1.initialize(manager, dataType, inputShapes[0]);
        Shape h1 = conv1.getOutputShapes(inputShapes)[0];
        bn1.initialize(manager, dataType, h1);
        conv2.initialize(manager, dataType, h1);
        Shape h2 = conv2.getOutputShapes(new Shape[] {h1})[0];
        bn2.initialize(manager, dataType, h2);
        conv3.initialize(manager, dataType, h2);
        bn3.initialize(manager, dataType, conv3.getOutputShapes(new Shape[] {h2})[0]);
        if (downsample != null) downsample.initialize(manager, dataType, inputShapes[0]);
    }
}
