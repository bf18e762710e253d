package io.sparkformers.nn.vision.vit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.HfBlock;

/**
 * Port of HF {@code ViTPatchEmbeddings}: a Conv2d with kernel = stride = patch_size ({@code projection}), then
 * flattened: (B, C, H, W) -> (B, (H/p)·(W/p), D). H and W must be multiples of the patch size.
 */
public final class ViTPatchEmbeddings extends HfBlock {

    private final int numChannels;
    private final int patchSize;
    private final int hiddenSize;
    private final Conv2d projection;

    public ViTPatchEmbeddings(ViTConfig c) {
        numChannels = c.numChannels();
        patchSize = c.patchSize();
        hiddenSize = c.hiddenSize();
        projection = addChildBlock(
                "projection",
                Conv2d.builder()
                        .setFilters(c.hiddenSize())
                        .setKernelShape(new Shape(patchSize, patchSize))
                        .optStride(new Shape(patchSize, patchSize))
                        .build());
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.head(); // (B, C, H, W)
        check(x.getShape());
        NDArray p = call(projection, ps, training, x); // (B, D, H/p, W/p)
        long b = p.getShape().get(0);
        return new NDList(p.reshape(b, hiddenSize, -1).transpose(0, 2, 1)); // (B, D, N) -> (B, N, D)
    }

    private void check(Shape s) {
        if (s.dimension() != 4 || s.get(1) != numChannels) {
            throw new IllegalArgumentException("pixel_values must be (B, " + numChannels + ", H, W) but are " + s
                    + ": make sure the channel dimension matches num_channels in the configuration");
        }
        if (s.get(2) % patchSize != 0 || s.get(3) % patchSize != 0) {
            throw new IllegalArgumentException(
                    "image size " + s.get(2) + "x" + s.get(3) + " is not a multiple of patch_size " + patchSize);
        }
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape s = inputShapes[0];
        return new Shape[] {new Shape(s.get(0), (s.get(2) / patchSize) * (s.get(3) / patchSize), hiddenSize)};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        projection.initialize(manager, dataType, inputShapes[0]);
    }
}
