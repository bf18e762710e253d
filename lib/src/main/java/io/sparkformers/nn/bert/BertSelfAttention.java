package io.sparkformers.nn.bert;

import ai.djl.ndarray.NDArray;
import io.sparkformers.nn.ScaledDotProductAttention;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import io.sparkformers.nn.HfBlock;

/**
 * Port of HF {@code BertSelfAttention} (eager path, absolute positions only): softmax(Q K^T / sqrt(hs) + mask) V.
 * Inputs: hidden_states (B, T, H), extended attention mask (B, 1, 1, T) holding 0 or the dtype's minimum.
 * Output: context (B, T, H).
 */
public final class BertSelfAttention extends HfBlock {

    private final int numHeads;
    private final Linear query;
    private final Linear key;
    private final Linear value;
    private final Dropout dropout;

    public BertSelfAttention(BertConfig c) {
        numHeads = c.numAttentionHeads();
        query = addChildBlock("query", Linear.builder().setUnits(c.hiddenSize()).build());
        key = addChildBlock("key", Linear.builder().setUnits(c.hiddenSize()).build());
        value = addChildBlock("value", Linear.builder().setUnits(c.hiddenSize()).build());
        dropout = addChildBlock("dropout", Dropout.builder().optRate((float) c.attentionProbsDropoutProb()).build());
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.get(0);                                          // (B, T, H)
        NDArray mask = inputs.get(1);                                       // (B, 1, 1, T)
        NDArray context = ScaledDotProductAttention.attend(call(query, ps, training, x), call(key, ps, training, x),
                call(value, ps, training, x), mask, numHeads, p -> call(dropout, ps, training, p));   // (B, T, H)
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
