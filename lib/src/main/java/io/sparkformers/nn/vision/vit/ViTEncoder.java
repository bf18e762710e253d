package io.sparkformers.nn.vision.vit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.HfBlock;
import io.sparkformers.nn.LayerScope;
import java.util.ArrayList;
import java.util.List;

/** Port of HF {@code ViTEncoder}: {@code layer.0 … layer.(L-1)} in turn. (B, T, D) -> (B, T, D). */
public final class ViTEncoder extends HfBlock {

    private final List<ViTLayer> layers = new ArrayList<>();

    public ViTEncoder(ViTConfig c) {
        for (int i = 0; i < c.numHiddenLayers(); i++) layers.add(addChildBlock("layer." + i, new ViTLayer(c)));
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.head();
        for (int i = 0; i < layers.size(); i++) {
            ViTLayer layer = layers.get(i);
            x = LayerScope.apply(x, i > 0, training, h -> call(layer, ps, training, h)); // (B, T, D)
        }
        return new NDList(x);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        for (ViTLayer layer : layers) layer.initialize(manager, dataType, inputShapes);
    }
}
