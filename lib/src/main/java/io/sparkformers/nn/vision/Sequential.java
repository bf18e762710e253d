package io.sparkformers.nn.vision;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import io.sparkformers.nn.HfBlock;
import io.sparkformers.nn.LayerScope;
import java.util.ArrayList;
import java.util.List;

/**
 * PyTorch {@code nn.Sequential}: children named {@code 0, 1, 2, …} in order, so that torchvision's
 * {@code features.17.weight} and {@code layer2.1.conv1.weight} map mechanically. Parameter-free steps (ReLU,
 * pooling, dropout) keep their index, as in torchvision, so the numbering of the others matches.
 */
public final class Sequential extends HfBlock {

    private final List<Block> steps = new ArrayList<>();

    public Sequential(List<? extends Block> blocks) {
        for (Block b : blocks) steps.add(addChildBlock(Integer.toString(steps.size()), b));
    }

    public List<Block> steps() {
        return List.copyOf(steps);
    }

    /** Steps run one after another; in inference each step's intermediates are freed when it ends ({@link LayerScope}). */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        if (inputs.size() != 1) {
            NDList x = inputs;
            for (Block b : steps) x = b.forward(ps, x, training);
            return x;
        }
        NDArray x = inputs.head();
        for (int i = 0; i < steps.size(); i++) {
            Block b = steps.get(i);
            x = LayerScope.apply(
                    x,
                    i > 0,
                    training,
                    h -> b.forward(ps, new NDList(h), training).singletonOrThrow());
        }
        return new NDList(x);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape[] s = inputShapes;
        for (Block b : steps) s = b.getOutputShapes(s);
        return s;
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape[] s = inputShapes;
        for (Pair<String, Block> child : getChildren()) {
            child.getValue().initialize(manager, dataType, s);
            s = child.getValue().getOutputShapes(s);
        }
    }
}
