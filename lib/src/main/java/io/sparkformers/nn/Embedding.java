package io.sparkformers.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;

/**
 * PyTorch {@code nn.Embedding(num, dim, padding_idx)}: a lookup table with its parameter named {@code weight}
 * (DJL's Embedding says "embedding" and maps unknown items); in training the padding row gets no gradient from the
 * lookup, as in torch. Input: int64 ids of any shape; output: that shape
 * plus {@code dim}.
 */
public final class Embedding extends AbstractBlock {

    private final long numEmbeddings;
    private final long dim;
    private final Integer paddingIdx;
    private final Parameter weight;
    private Initializer fixedInit;

    /**
     * @param numEmbeddings rows of the table
     * @param dim           width of each row
     * @param paddingIdx    row HF initialises to zeros ({@code padding_idx}), or null
     */
    public Embedding(long numEmbeddings, long dim, Integer paddingIdx) {
        if (numEmbeddings <= 0 || dim <= 0) {
            throw new IllegalArgumentException("Embedding(" + numEmbeddings + ", " + dim + ") needs positive sizes");
        }
        if (paddingIdx != null && (paddingIdx < 0 || paddingIdx >= numEmbeddings)) {
            throw new IllegalArgumentException("padding_idx " + paddingIdx + " outside [0, " + numEmbeddings + ")");
        }
        this.numEmbeddings = numEmbeddings;
        this.dim = dim;
        this.paddingIdx = paddingIdx;
        weight = addParameter(Parameter.builder()
                .setName("weight")
                .setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(numEmbeddings, dim))
                .build());
    }

    /** The table, (num, dim); a tied output projection reads it through the parameter store. */
    public Parameter weight() {
        return weight;
    }

    /**
     * The tables of every {@code Embedding} in {@code root}'s tree, as the arrays the parameters hold: their gradients
     * are zero outside the rows a batch looked up, which a data-parallel all-reduce can use.
     */
    public static List<NDArray> tablesIn(Block root) {
        List<NDArray> out = new ArrayList<>();
        collectTables(root, out);
        return out;
    }

    private static void collectTables(Block block, List<NDArray> out) {
        if (block instanceof Embedding e && e.weight.isInitialized()) out.add(e.weight.getArray());
        for (Block child : block.getChildren().values()) collectTables(child, out);
    }

    /** Makes the table a fixed function (e.g. sinusoids) that HF's random init must not replace. */
    public Embedding withFixedInitializer(Initializer init) {
        fixedInit = init;
        weight.setInitializer(init);
        return this;
    }

    /** The fixed initializer, or null when HF's normal init applies. */
    public Initializer fixedInitializer() {
        return fixedInit;
    }

    public Integer paddingIdx() {
        return paddingIdx;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray ids = inputs.singletonOrThrow();
        NDArray w = ps.getValue(weight, ids.getDevice(), training);
        NDList out = ids.getNDArrayInternal().embedding(ids, w, SparseFormat.DENSE);
        if (!training || paddingIdx == null) return out;
        // as torch's padding_idx: the lookup adds nothing to the padding row's gradient (it matters where the
        // padding id is a real input, e.g. Marian's decoder start); a tied output projection still trains the row
        NDArray pad = ids.eq(paddingIdx).expandDims(-1).broadcast(out.head().getShape()); // (..., 1) -> (..., dim)
        return new NDList(NDArrays.where(pad, out.head().stopGradient(), out.head())); // (..., dim)
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0].add(dim)};
    }

    @Override
    public void prepare(Shape[] inputShapes) {}

    @Override
    public String toString() {
        return "Embedding(" + numEmbeddings + ", " + dim + (paddingIdx == null ? "" : ", padding_idx=" + paddingIdx)
                + ")";
    }
}
