package io.sparkformers.nn.t5;

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
 * Port of HF {@code T5LayerNorm}: {@code weight * x / sqrt(mean(x^2) + eps)} over the last axis, no mean subtraction
 * and no bias (RMS norm). Parameter {@code weight} (D).
 */
final class T5LayerNorm extends HfBlock {

    private final float eps;
    private final Parameter weight;

    T5LayerNorm(long size, double eps) {
        this.eps = (float) eps;
        weight = addParameter(Parameter.builder()
                .setName("weight")
                .setType(Parameter.Type.GAMMA)
                .optShape(new Shape(size))
                .build());
    }

    /** (..., D) -> (..., D). */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.head();
        NDArray w = ps.getValue(weight, x.getDevice(), training);
        NDArray variance = x.square().mean(new int[] {-1}, true); // (..., 1)
        return new NDList(x.div(variance.add(eps).sqrt()).mul(w));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {}
}
