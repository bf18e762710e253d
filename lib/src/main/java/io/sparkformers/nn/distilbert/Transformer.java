package io.sparkformers.nn.distilbert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.EncoderOutputs;
import io.sparkformers.nn.HfBlock;
import io.sparkformers.nn.LayerScope;
import java.util.ArrayList;
import java.util.List;

/** Port of HF DistilBERT {@code Transformer}: {@code layer.0 … layer.(n-1)} in turn, (B, T, dim) -> (B, T, dim). */
public final class Transformer extends HfBlock {

    private final List<TransformerBlock> layers = new ArrayList<>();

    public Transformer(DistilBertConfig c) {
        for (int i = 0; i < c.nLayers(); i++) layers.add(addChildBlock("layer." + i, new TransformerBlock(c)));
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.get(0);
        NDArray mask = inputs.get(1);
        for (int i = 0; i < layers.size(); i++) {
            TransformerBlock layer = layers.get(i);
            x = LayerScope.apply(
                    x,
                    i > 0,
                    training,
                    h -> layer.forward(ps, new NDList(h, mask), training).head());
        }
        return new NDList(x);
    }

    /** {@link #forward} keeping HF's {@code hidden_states} and/or {@code attentions} (inference only). */
    public EncoderOutputs forwardOutputs(
            ParameterStore ps, NDArray x, NDArray mask, boolean hiddenStates, boolean attentions) {
        return EncoderOutputs.run(
                x,
                layers.size(),
                hiddenStates,
                attentions,
                (i, h) -> layers.get(i).forward(ps, new NDList(h, mask), false).head(),
                (i, h) -> layers.get(i).attention().probabilities(ps, h, mask));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        for (TransformerBlock layer : layers) layer.initialize(manager, dataType, inputShapes);
    }
}
