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
 * Port of torchvision {@code BasicBlock} (ResNet-18/34): relu(bn2(conv2(relu(bn1(conv1(x))))) + downsample(x)),
 * 3×3 convs, stride on conv1, {@code downsample} = Sequential(conv 1×1, BatchNorm2d) when the shape changes.
 * (B, inplanes, H, W) -> (B, planes, H/stride, W/stride).
 */
public final class BasicBlock extends HfBlock {

    /** Output channels per {@code planes}. */
    public static final int EXPANSION = 1;

    private final Conv2d conv1;
    private final BatchNorm2d bn1;
    private final Conv2d conv2;
    private final BatchNorm2d bn2;
    private final Sequential downsample;

    public BasicBlock(int inplanes, int planes, int stride) {
        conv1 = addChildBlock("conv1", CnnModel.conv(planes, 3, stride, 1, false));
        bn1 = addChildBlock("bn1", new BatchNorm2d(planes));
        conv2 = addChildBlock("conv2", CnnModel.conv(planes, 3, 1, 1, false));
        bn2 = addChildBlock("bn2", new BatchNorm2d(planes));
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
        out = call(bn2, ps, training, call(conv2, ps, training, out)); // (B, planes, H/s, W/s)
        NDArray identity = downsample == null ? x : call(downsample, ps, training, x);
        return new NDList(out.add(identity).getNDArrayInternal().relu());
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return conv1.getOutputShapes(inputShapes);
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        conv1.initialize(manager, dataType, inputShapes[0]);
        Shape h = conv1.getOutputShapes(inputShapes)[0];
        bn1.initialize(manager, dataType, h);
        conv2.initialize(manager, dataType, h);
        bn2.initialize(manager, dataType, h);
        if (downsample != null) downsample.initialize(manager, dataType, inputShapes[0]);
    }
}
