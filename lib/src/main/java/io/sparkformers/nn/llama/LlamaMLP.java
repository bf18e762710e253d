package io.sparkformers.nn.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.Activations;
import io.sparkformers.nn.DerivedWeights;
import io.sparkformers.nn.HfBlock;

/**
 * Port of HF {@code LlamaMLP} (SwiGLU): {@code down_proj(silu(gate_proj(x)) * up_proj(x))}. (B, T, H) -> (B, T, H).
 * In inference gate and up run as one GEMM over a shared weight storage, and down_proj over its weight in the same
 * layout ({@link SharedProjection}).
 */
public final class LlamaMLP extends HfBlock implements DerivedWeights {

    private final LlamaConfig config;
    private final Linear gateProj;
    private final Linear upProj;
    private final Linear downProj;
    private final SharedProjection gateUp;
    private final SharedProjection down;

    public LlamaMLP(LlamaConfig c) {
        config = c;
        gateProj = addChildBlock("gate_proj", linear(c.intermediateSize(), c.mlpBias()));
        upProj = addChildBlock("up_proj", linear(c.intermediateSize(), c.mlpBias()));
        downProj = addChildBlock("down_proj", linear(c.hiddenSize(), c.mlpBias()));
        gateUp = new SharedProjection(gateProj, upProj);
        down = new SharedProjection(downProj);
    }

    static Linear linear(long units, boolean bias) {
        return Linear.builder().setUnits(units).optBias(bias).build();
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.head(); // (B, T, H)
        if (training) {
            gateUp.unshare(ps, x);
            down.unshare(ps, x);
        }
        if (SharedProjection.applies(ps, x, training)) {
            long i = config.intermediateSize();
            NDArray gu = gateUp.apply(ps, x); // (B, T, 2I): gate, up side by side
            NDArray act = Activations.of("silu").apply(gu.get(NDIndex.sliceAxis(2, 0, i))); // (B, T, I)
            return new NDList(down.apply(ps, act.mul(gu.get(NDIndex.sliceAxis(2, i, 2 * i))))); // (B, T, H)
        }
        NDArray act = Activations.of("silu").apply(call(gateProj, ps, training, x)); // (B, T, I)
        return new NDList(call(downProj, ps, training, act.mul(call(upProj, ps, training, x)))); // (B, T, H)
    }

    @Override
    public void weightsChanged() {
        gateUp.weightsChanged();
        down.weightsChanged();
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape x = inputShapes[0];
        gateProj.initialize(manager, dataType, x);
        upProj.initialize(manager, dataType, x);
        downProj.initialize(manager, dataType, x.slice(0, x.dimension() - 1).add(config.intermediateSize()));
    }
}
