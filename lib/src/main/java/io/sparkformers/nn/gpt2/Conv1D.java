package io.sparkformers.nn.gpt2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.HfBlock;

/**
 * Port of HF {@code Conv1D} (pytorch_utils): a linear layer whose weight is stored (in, out), the transpose of
 * {@code nn.Linear}'s, as every GPT-2 checkpoint holds it. y = x W + b, computed as libtorch's linear over the
 * weight's transposed view, which is the layout its GEMM reads fastest. Input (..., in); output (..., out).
 */
public final class Conv1D extends HfBlock {

    private final long nf;
    private final Parameter weight;
    private final Parameter bias;

    /**
     * @param nf output width
     * @param nx input width
     */
    public Conv1D(long nf, long nx) {
        this.nf = nf;
        weight = addParameter(Parameter.builder()
                .setName("weight")
                .setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(nx, nf))
                .build());
        bias = addParameter(Parameter.builder()
                .setName("bias")
                .setType(Parameter.Type.BIAS)
                .optShape(new Shape(nf))
                .build());
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow(); // (..., nx)
        NDArray w = ps.getValue(weight, x.getDevice(), training); // (nx, nf)
        NDArray b = ps.getValue(bias, x.getDevice(), training);
        return x.getNDArrayInternal().linear(x, w.transpose(), b); // (..., nf)
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape s = inputShapes[0];
        return new Shape[] {s.slice(0, s.dimension() - 1).add(nf)};
    }

    @Override
    public void prepare(Shape[] inputShapes) {}
}
