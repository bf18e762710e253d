package io.sparkformers.nn.vision.vit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.HfBlock;
import io.sparkformers.nn.vision.VisionOps;

/**
 * Port of HF {@code ViTEmbeddings} (no mask token): [CLS] + patch embeddings, plus learned absolute position
 * embeddings, dropout. (B, C, H, W) -> (B, 1 + N, D).
 *
 * <p>Images of another size than {@code image_size} get their position table resized as HF's
 * {@code interpolate_pos_encoding} does (transformers ≥ 4.44): the class position is kept, the (√N × √N) grid is
 * resized bicubically (align_corners=False) to (H/p × W/p). HF does this only with
 * {@code interpolate_pos_encoding=True} and otherwise raises; here it is always on.
 */
public final class ViTEmbeddings extends HfBlock {

    private final int hiddenSize;
    private final int gridSize;
    private final int patchSize;
    private final Parameter clsToken;
    private final Parameter positionEmbeddings;
    private final ViTPatchEmbeddings patchEmbeddings;
    private final Dropout dropout;

    public ViTEmbeddings(ViTConfig c) {
        hiddenSize = c.hiddenSize();
        gridSize = c.gridSize();
        patchSize = c.patchSize();
        clsToken = addParameter(Parameter.builder()
                .setName("cls_token")
                .setType(Parameter.Type.OTHER)
                .optShape(new Shape(1, 1, hiddenSize))
                .build());
        positionEmbeddings = addParameter(Parameter.builder()
                .setName("position_embeddings")
                .setType(Parameter.Type.OTHER)
                .optShape(new Shape(1, (long) gridSize * gridSize + 1, hiddenSize))
                .build());
        patchEmbeddings = addChildBlock("patch_embeddings", new ViTPatchEmbeddings(c));
        dropout = addChildBlock(
                "dropout",
                Dropout.builder().optRate((float) c.hiddenDropoutProb()).build());
    }

    /** The raw position-table parameters, for initialisation. */
    Parameter clsTokenParameter() {
        return clsToken;
    }

    Parameter positionEmbeddingsParameter() {
        return positionEmbeddings;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray pixels = inputs.head(); // (B, C, H, W)
        long b = pixels.getShape().get(0);
        NDArray patches = call(patchEmbeddings, ps, training, pixels); // (B, N, D)
        NDArray cls = local(pixels, ps.getValue(clsToken, pixels.getDevice(), training))
                .broadcast(b, 1, hiddenSize); // (1, 1, D) -> (B, 1, D)
        NDArray x = cls.concat(patches, 1); // (B, 1 + N, D)
        NDArray pos = local(pixels, ps.getValue(positionEmbeddings, pixels.getDevice(), training)); // (1, 1 + G², D)
        x = x.add(interpolate(
                pos, pixels.getShape().get(2) / patchSize, pixels.getShape().get(3) / patchSize));
        return new NDList(call(dropout, ps, training, x));
    }

    /**
     * {@code p} as a differentiable copy owned by the batch's manager: results of PyTorch ops belong to their first
     * operand's manager, and a parameter's manager lives as long as the model, so slicing the parameter directly
     * would keep every batch's intermediates alive.
     */
    private static NDArray local(NDArray batch, NDArray p) {
        return batch.getManager()
                .zeros(p.getShape(), p.getDataType(), p.getDevice())
                .add(p);
    }

    /** HF {@code interpolate_pos_encoding}: (1, 1 + G², D) -> (1, 1 + h·w, D); unchanged when h = w = G. */
    static NDArray interpolate(NDArray pos, long h, long w) {
        long n = pos.getShape().get(1) - 1;
        long side = Math.round(Math.sqrt(n));
        if (h == side && w == side) return pos;
        long dim = pos.getShape().get(2);
        NDArray cls = pos.get(new NDIndex(":, :1")); // (1, 1, D)
        NDArray grid = pos.get(new NDIndex(":, 1:"))
                .reshape(1, side, side, dim)
                .transpose(0, 3, 1, 2); // (1, N, D) -> (1, D, G, G)
        NDArray resized = VisionOps.bicubic(grid, h, w) // (1, D, h, w)
                .transpose(0, 2, 3, 1)
                .reshape(1, h * w, dim); // (1, h, w, D) -> (1, h·w, D)
        return cls.concat(resized, 1);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape p = patchEmbeddings.getOutputShapes(inputShapes)[0];
        return new Shape[] {new Shape(p.get(0), p.get(1) + 1, hiddenSize)};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        patchEmbeddings.initialize(manager, dataType, inputShapes[0]);
        dropout.initialize(manager, dataType, getOutputShapes(inputShapes));
    }
}
