package io.sparkformers.nn.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.Activations;
import io.sparkformers.nn.DerivedWeights;
import io.sparkformers.nn.HfBlock;
import io.sparkformers.nn.InferenceLinear;
import java.util.function.UnaryOperator;

/** Port of HF {@code BertIntermediate}: act(dense(x)), (B, T, H) -> (B, T, I). */
public final class BertIntermediate extends HfBlock implements DerivedWeights {

    private final int intermediateSize;
    private final UnaryOperator<NDArray> act;
    /** HF "gelu": the product and the activation run as one kernel in FP32 inference. */
    private final boolean gelu;

    private final Linear dense;
    private final InferenceLinear denseInference;

    public BertIntermediate(BertConfig c) {
        intermediateSize = c.intermediateSize();
        act = Activations.of(c.hiddenAct());
        gelu = c.hiddenAct().equals("gelu");
        dense = addChildBlock(
                "dense", Linear.builder().setUnits(c.intermediateSize()).build());
        denseInference = new InferenceLinear(dense);
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.head(); // (B, T, H)
        return new NDList(
                gelu
                        ? denseInference.forwardGelu(ps, x, training)
                        : act.apply(denseInference.forward(ps, x, training))); // (B, T, I)
    }

    Linear dense() {
        return dense;
    }

    /** Whether the activation is HF "gelu" (the erf form), the one {@link io.sparkformers.nn.LinearGelu} fuses. */
    boolean gelu() {
        return gelu;
    }

    @Override
    public void weightsChanged() {
        denseInference.weightsChanged();
    }

    @Override
    public void computeIn(io.sparkformers.nn.ComputeDtype dtype) {
        denseInference.computeIn(dtype);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape s = inputShapes[0];
        return new Shape[] {s.slice(0, s.dimension() - 1).add(intermediateSize)};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        dense.initialize(manager, dataType, inputShapes[0]);
    }
}
