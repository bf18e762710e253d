package io.sparkformers.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * PyTorch {@code nn.LayerNorm(size, eps)} over the last axis, with parameters named {@code weight} and
 * {@code bias} as in HF checkpoints (DJL's own LayerNorm says gamma/beta, uses eps 1e-5 and normalises every
 * non-batch axis).
 */
public final class LayerNorm extends AbstractBlock {

    private final long size;
    private final double eps;
    private final Parameter weight;
    private final Parameter bias;

    /**
     * @param size width of the last axis
     * @param eps  added to the variance (HF {@code layer_norm_eps}; BERT 1e-12)
     */
    public LayerNorm(long size, double eps) {
        if (size <= 0) throw new IllegalArgumentException("LayerNorm size must be > 0 but was " + size);
        if (!(eps > 0)) throw new IllegalArgumentException("LayerNorm eps must be > 0 but was " + eps);
        this.size = size;
        this.eps = eps;
        weight = addParameter(Parameter.builder()
                .setName("weight")
                .setType(Parameter.Type.GAMMA)
                .optShape(new Shape(size))
                .build());
        bias = addParameter(Parameter.builder()
                .setName("bias")
                .setType(Parameter.Type.BETA)
                .optShape(new Shape(size))
                .build());
    }

    public double eps() {
        return eps;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow(); // (..., size)
        NDArray w = ps.getValue(weight, x.getDevice(), training);
        NDArray b = ps.getValue(bias, x.getDevice(), training);
        return x.getNDArrayInternal().layerNorm(x, new Shape(size), w, b, (float) eps);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void beforeInitialize(Shape... inputShapes) {
        super.beforeInitialize(inputShapes);
        if (inputShapes[0].get(inputShapes[0].dimension() - 1) != size) {
            throw new IllegalArgumentException("LayerNorm(" + size + ") got input of shape " + inputShapes[0]);
        }
    }

    @Override
    public void prepare(Shape[] inputShapes) {}

    @Override
    public String toString() {
        return "LayerNorm(" + size + ", eps=" + eps + ")";
    }
}
