package io.sparkformers.nn.vision;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.HfBlock;

/** PyTorch {@code nn.AdaptiveAvgPool2d((h, w))}: (B, C, H, W) -> (B, C, h, w); no parameters. */
public final class AdaptiveAvgPool2d extends HfBlock {

    private final long height;
    private final long width;

    public AdaptiveAvgPool2d(long height, long width) {
        if (height <= 0 || width <= 0) {
            throw new IllegalArgumentException(
                    "AdaptiveAvgPool2d output size must be > 0 but was " + height + "x" + width);
        }
        this.height = height;
        this.width = width;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(VisionOps.adaptiveAvgPool2d(inputs.singletonOrThrow(), height, width));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape s = inputShapes[0];
        return new Shape[] {new Shape(s.get(0), s.get(1), height, width)};
    }
}
