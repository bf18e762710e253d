package io.sparkformers.nn.bart;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.HfBlock;

/**
 * Port of HF {@code BartClassificationHead}: out_proj(dropout(tanh(dense(dropout(x))))). Input (B, D), output
 * (B, num_labels).
 */
public final class BartClassificationHead extends HfBlock {

    private final Linear dense;
    private final Dropout dropout;
    private final Linear outProj;
    private final int numLabels;

    /**
     * @param innerDim   width of {@code dense} (HF passes d_model)
     * @param numLabels  classes
     * @param dropoutRate HF {@code classifier_dropout}
     */
    public BartClassificationHead(int innerDim, int numLabels, float dropoutRate) {
        this.numLabels = numLabels;
        dense = addChildBlock("dense", Linear.builder().setUnits(innerDim).build());
        dropout =
                addChildBlock("dropout", Dropout.builder().optRate(dropoutRate).build());
        outProj = addChildBlock("out_proj", Linear.builder().setUnits(numLabels).build());
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = call(dropout, ps, training, inputs.head()); // (B, D)
        x = call(dense, ps, training, x).tanh();
        return new NDList(call(outProj, ps, training, call(dropout, ps, training, x))); // (B, C)
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), numLabels)};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        dense.initialize(manager, dataType, inputShapes[0]);
        dropout.initialize(manager, dataType, inputShapes[0]);
        outProj.initialize(manager, dataType, dense.getOutputShapes(inputShapes)[0]);
    }
}
