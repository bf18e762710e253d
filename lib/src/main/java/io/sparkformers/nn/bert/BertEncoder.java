package io.sparkformers.nn.bert;

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

/**
 * Port of HF {@code BertEncoder}: {@code layer.0 … layer.(L-1)} applied in turn.
 * Inputs: hidden_states (B, T, H), then the extended mask (B, 1, 1, T) unless nothing is padding. Output: last hidden
 * state (B, T, H).
 */
public final class BertEncoder extends HfBlock {

    private final List<BertLayer> layers = new ArrayList<>();

    public BertEncoder(BertConfig c) {
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            layers.add(addChildBlock("layer." + i, new BertLayer(c)));
        }
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.get(0);
        NDArray mask = inputs.size() > 1 ? inputs.get(1) : null;
        for (int i = 0; i < layers.size(); i++) {
            BertLayer layer = layers.get(i);
            x = LayerScope.apply(
                    x,
                    i > 0,
                    training,
                    h -> // (B, T, H)
                    layer.forward(ps, mask == null ? new NDList(h) : new NDList(h, mask), training)
                            .head());
        }
        if (!layers.isEmpty() && layers.get(layers.size() - 1).runsKernel(ps, x, training)) {
            // The kernel's output is an inference tensor (the scripted call runs in libtorch's InferenceMode), which
            // autograd refuses to save: a frozen encoder under a trained head (feature extraction) needs a plain one.
            // One (B, T, H) copy per forward.
            x = x.duplicate();
        }
        return new NDList(x);
    }

    /**
     * {@link #forward} keeping HF's {@code hidden_states} and/or {@code attentions} (inference only).
     *
     * @param x    the embeddings' output (B, T, H)
     * @param mask the extended mask (B, 1, 1, T), or null when nothing is padding
     */
    public EncoderOutputs forwardOutputs(
            ParameterStore ps, NDArray x, NDArray mask, boolean hiddenStates, boolean attentions) {
        return EncoderOutputs.run(
                x,
                layers.size(),
                hiddenStates,
                attentions,
                (i, h) -> layers.get(i)
                        .forward(ps, mask == null ? new NDList(h) : new NDList(h, mask), false)
                        .head(),
                (i, h) -> layers.get(i).attention().self().probabilities(ps, h, mask));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        for (BertLayer layer : layers) layer.initialize(manager, dataType, inputShapes);
    }
}
