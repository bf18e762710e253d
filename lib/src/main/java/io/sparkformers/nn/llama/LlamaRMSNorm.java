package io.sparkformers.nn.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.HfBlock;

/**
 * Port of HF {@code LlamaRMSNorm}: {@code weight * x / sqrt(mean(x^2) + eps)} over the last axis, no mean
 * subtraction and no bias. Parameter {@code weight} (H), initialised to ones.
 */
public final class LlamaRMSNorm extends HfBlock {

    private final long hiddenSize;
    private final float eps;
    private final Parameter weight;

    public LlamaRMSNorm(long hiddenSize, double eps) {
        this.hiddenSize = hiddenSize;
        this.eps = (float) eps;
        weight = addParameter(Parameter.builder()
                .setName("weight")
                .setType(Parameter.Type.GAMMA)
                .optShape(new Shape(hiddenSize))
                .build());
    }

    /** (..., H) -> (..., H); the result joins x's manager. */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.head();
        NDArray w = ps.getValue(weight, x.getDevice(), training);
        NDArray rms = x.square().mean(new int[] {-1}, true).add(eps).sqrt(); // (..., 1)
        return new NDList(x.div(rms).mul(w));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {}

    @Override
    public String toString() {
        return "LlamaRMSNorm(" + hiddenSize + ", eps=" + eps + ")";
    }
}
