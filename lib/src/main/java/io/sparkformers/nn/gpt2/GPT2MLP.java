package io.sparkformers.nn.gpt2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.Activations;
import io.sparkformers.nn.HfBlock;
import java.util.function.UnaryOperator;

/** Port of HF {@code GPT2MLP}: dropout(c_proj(act(c_fc(x)))). Input and output (B, T, n_embd). */
public final class GPT2MLP extends HfBlock {

    private final UnaryOperator<NDArray> act;
    private final int inner;
    private final Conv1D cFc;
    private final Conv1D cProj;
    private final Dropout dropout;

    public GPT2MLP(GPT2Config c) {
        act = Activations.of(c.activationFunction());
        inner = c.innerSize();
        cFc = addChildBlock("c_fc", new Conv1D(c.innerSize(), c.nEmbd()));
        cProj = addChildBlock("c_proj", new Conv1D(c.nEmbd(), c.innerSize()));
        dropout = addChildBlock(
                "dropout", Dropout.builder().optRate((float) c.residPdrop()).build());
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray h = act.apply(call(cFc, ps, training, inputs.head())); // (B, T, inner)
        return new NDList(call(dropout, ps, training, call(cProj, ps, training, h))); // (B, T, n_embd)
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape x = inputShapes[0];
        cFc.initialize(manager, dataType, x);
        Shape h = x.slice(0, x.dimension() - 1).add(inner);
        cProj.initialize(manager, dataType, h);
        dropout.initialize(manager, dataType, x);
    }
}
