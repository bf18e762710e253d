package io.sparkformers.nn.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.DerivedWeights;
import io.sparkformers.nn.HfBlock;
import io.sparkformers.nn.InferenceLinear;
import io.sparkformers.nn.LayerNorm;

/**
 * What HF's {@code BertSelfOutput} and {@code BertOutput} both compute (HF copies one into the other):
 * LayerNorm(dropout(dense(x)) + residual), children {@code dense}, {@code LayerNorm}, {@code dropout}. Inputs: x
 * (B, T, in), residual (B, T, H). Output (B, T, H). The two keep their HF names as subclasses.
 */
abstract class BertResidualOutput extends HfBlock implements DerivedWeights {

    private final Linear dense;
    private final LayerNorm layerNorm;
    private final Dropout dropout;
    private final InferenceLinear denseInference;

    BertResidualOutput(BertConfig c) {
        dense = addChildBlock("dense", Linear.builder().setUnits(c.hiddenSize()).build());
        layerNorm = addChildBlock("LayerNorm", new LayerNorm(c.hiddenSize(), c.layerNormEps()));
        dropout = addChildBlock(
                "dropout",
                Dropout.builder().optRate((float) c.hiddenDropoutProb()).build());
        denseInference = new InferenceLinear(dense);
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray h = inputs.get(0);
        NDArray residual = inputs.get(1); // (B, T, H)
        h = denseInference.forward(ps, h, training); // (B, T, H)
        h = training
                ? call(dropout, ps, true, h).add(residual)
                : (denseInference.bf16() ? h.add(residual) : h.addi(residual)); // eval: dropout is identity
        return new NDList(call(layerNorm, ps, training, h));
    }

    Linear dense() {
        return dense;
    }

    LayerNorm layerNorm() {
        return layerNorm;
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
        return new Shape[] {inputShapes[1]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        dense.initialize(manager, dataType, inputShapes[0]);
        layerNorm.initialize(manager, dataType, inputShapes[1]);
        dropout.initialize(manager, dataType, inputShapes[1]);
    }
}
