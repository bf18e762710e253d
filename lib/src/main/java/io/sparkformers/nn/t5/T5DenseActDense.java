package io.sparkformers.nn.t5;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.Activations;
import io.sparkformers.nn.HfBlock;
import java.util.function.UnaryOperator;

/**
 * Port of HF {@code T5DenseActDense} ({@code wo(dropout(act(wi(x))))}, v1.0) and {@code T5DenseGatedActDense}
 * ({@code wo(dropout(act(wi_0(x)) * wi_1(x)))}, v1.1), both stored under {@code DenseReluDense}; no biases.
 */
final class T5DenseActDense extends HfBlock {

    private final T5Config config;
    private final UnaryOperator<NDArray> act;
    private final Linear wi;
    private final Linear wi0;
    private final Linear wi1;
    private final Linear wo;
    private final Dropout dropout;

    T5DenseActDense(T5Config c) {
        config = c;
        act = Activations.of(c.denseActFn());
        boolean gated = c.isGatedAct();
        wi = gated ? null : addChildBlock("wi", T5Attention.linear(c.dFf()));
        wi0 = gated ? addChildBlock("wi_0", T5Attention.linear(c.dFf())) : null;
        wi1 = gated ? addChildBlock("wi_1", T5Attention.linear(c.dFf())) : null;
        wo = addChildBlock("wo", T5Attention.linear(c.dModel()));
        dropout = addChildBlock(
                "dropout", Dropout.builder().optRate((float) c.dropoutRate()).build());
    }

    /** (B, T, D) -> (B, T, D). */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.head();
        NDArray h = wi != null
                ? act.apply(call(wi, ps, training, x))
                : act.apply(call(wi0, ps, training, x)).mul(call(wi1, ps, training, x)); // (B, T, d_ff)
        return new NDList(call(wo, ps, training, call(dropout, ps, training, h)));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape x = new Shape(1, 1, config.dModel());
        for (Linear l : new Linear[] {wi, wi0, wi1}) if (l != null) l.initialize(manager, dataType, x);
        wo.initialize(manager, dataType, new Shape(1, 1, config.dFf()));
        dropout.initialize(manager, dataType, x);
    }
}
