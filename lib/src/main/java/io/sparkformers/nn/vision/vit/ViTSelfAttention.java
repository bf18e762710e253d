package io.sparkformers.nn.vision.vit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.HfBlock;
import io.sparkformers.nn.ScaledDotProductAttention;

/**
 * Port of HF {@code ViTSelfAttention} (eager path): softmax(Q K^T / sqrt(hs)) V over all tokens, no mask.
 * (B, T, D) -> (B, T, D).
 */
public final class ViTSelfAttention extends HfBlock {

    private final int numHeads;
    private final Linear query;
    private final Linear key;
    private final Linear value;
    private final Dropout dropout;

    public ViTSelfAttention(ViTConfig c) {
        numHeads = c.numAttentionHeads();
        query = addChildBlock(
                "query",
                Linear.builder().setUnits(c.hiddenSize()).optBias(c.qkvBias()).build());
        key = addChildBlock(
                "key",
                Linear.builder().setUnits(c.hiddenSize()).optBias(c.qkvBias()).build());
        value = addChildBlock(
                "value",
                Linear.builder().setUnits(c.hiddenSize()).optBias(c.qkvBias()).build());
        dropout = addChildBlock(
                "dropout",
                Dropout.builder().optRate((float) c.attentionProbsDropoutProb()).build());
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.head(); // (B, T, D)
        NDArray context = ScaledDotProductAttention.attend(
                call(query, ps, training, x),
                call(key, ps, training, x),
                call(value, ps, training, x),
                null,
                numHeads,
                p -> call(dropout, ps, training, p)); // (B, T, H)
        return new NDList(context);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        query.initialize(manager, dataType, inputShapes[0]);
        key.initialize(manager, dataType, inputShapes[0]);
        value.initialize(manager, dataType, inputShapes[0]);
        Shape s = inputShapes[0];
        dropout.initialize(manager, dataType, new Shape(s.get(0), numHeads, s.get(1), s.get(1)));
    }
}
