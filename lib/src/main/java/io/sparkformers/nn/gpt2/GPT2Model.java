package io.sparkformers.nn.gpt2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.Embedding;
import io.sparkformers.nn.LayerNorm;
import io.sparkformers.nn.LayerScope;
import java.util.ArrayList;
import java.util.List;

/**
 * Port of HF {@code GPT2Model}: token (wte) + learned position (wpe) embeddings, dropout, {@code h.0 … h.(L-1)},
 * ln_f. Inputs: input_ids (B, T) int64, optionally attention_mask (B, T) int64 and position_ids (B, T) int64 (default
 * as generate() computes them: {@code cumsum(mask) - 1}, padding at 1). Output: last_hidden_state (B, T, n_embd).
 */
public final class GPT2Model extends GPT2PreTrainedModel {

    private final Embedding wte;
    private final Embedding wpe;
    private final Dropout drop;
    private final List<GPT2Block> h = new ArrayList<>();
    private final LayerNorm lnF;

    public GPT2Model(GPT2Config c) {
        super(c);
        wte = addChildBlock("wte", new Embedding(c.vocabSize(), c.nEmbd(), null));
        wpe = addChildBlock("wpe", new Embedding(c.nPositions(), c.nEmbd(), null));
        drop = addChildBlock(
                "drop", Dropout.builder().optRate((float) c.embdPdrop()).build());
        for (int i = 0; i < c.nLayer(); i++) h.add(addChildBlock("h." + i, new GPT2Block(c)));
        lnF = addChildBlock("ln_f", new LayerNorm(c.nEmbd(), c.layerNormEpsilon()));
    }

    /** The token embedding, which the LM head reads as its weight. */
    public Embedding wte() {
        return wte;
    }

    @Override
    public boolean isBaseModel() {
        return true;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray ids = inputs.get(0);
        NDArray mask = inputs.size() > 1 ? inputs.get(1) : ids.onesLike();
        NDArray positions = inputs.size() > 2 ? inputs.get(2) : positionIds(mask);
        return new NDList(forward(ps, ids, mask, positions, null, training));
    }

    /**
     * The forward pass over new tokens after the cache's positions.
     *
     * @param mask  (B, P + T) int64 over cached and new positions
     * @param cache grown by T positions, or null
     * @return (B, T, n_embd)
     */
    NDArray forward(
            ParameterStore ps, NDArray ids, NDArray mask, NDArray positions, GPT2Cache cache, boolean training) {
        long t = ids.getShape().get(1);
        long total = mask.getShape().get(1);
        if (total > config.nPositions()) {
            throw new IllegalArgumentException(
                    "sequence length " + total + " exceeds n_positions " + config.nPositions());
        }
        NDArray x = call(wte, ps, training, ids).add(call(wpe, ps, training, positions)); // (B, T, D)
        x = call(drop, ps, training, x);
        NDArray additive = causalMask(mask, t);
        for (int i = 0; i < h.size(); i++) {
            GPT2Block block = h.get(i);
            int layer = i;
            x = cache == null && training // training: gradient checkpointing may recompute the block
                    ? LayerScope.apply(x, i > 0, true, y -> block.forward(ps, y, additive, null, layer, true))
                    : block.forward(ps, x, additive, cache, i, training);
        }
        return call(lnF, ps, training, x);
    }

    /**
     * HF's 4-D mask for T queries after P cached positions: 0 where key j may be seen by query i (j ≤ P + i and j is
     * not padding), the float32 minimum elsewhere — finite, so fully padded query rows stay free of NaN.
     *
     * @param mask (B, P + T) int64
     * @return (B, 1, T, P + T) float32
     */
    static NDArray causalMask(NDArray mask, long t) {
        NDManager m = mask.getManager();
        int total = (int) mask.getShape().get(1);
        NDArray keyPos = m.arange(0, total, 1, DataType.INT64).reshape(1, total); // (1, P + T)
        NDArray queryPos = m.arange(total - (int) t, total, 1, DataType.INT64).reshape(t, 1); // (T, 1)
        NDArray allowed = keyPos.lte(queryPos) // (T, P + T)
                .expandDims(0)
                .logicalAnd(mask.eq(1).expandDims(1)); // (B, T, P + T)
        return allowed.toType(DataType.FLOAT32, false)
                .sub(1f)
                .mul(Float.MAX_VALUE)
                .expandDims(1); // (B, T, P + T) -> (B, 1, T, P + T)
    }

    /** HF generate's positions: {@code cumsum(mask) - 1}, padding set to 1. (B, T) int64. */
    public static NDArray positionIds(NDArray mask) {
        NDArray pos = mask.cumSum(1).sub(1);
        return ai.djl.ndarray.NDArrays.where(mask.eq(0), pos.onesLike(), pos);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0].add(config.nEmbd())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape ids = inputShapes[0];
        wte.initialize(manager, dataType, ids);
        wpe.initialize(manager, dataType, ids);
        Shape x = ids.add(config.nEmbd());
        drop.initialize(manager, dataType, x);
        Shape mask = new Shape(ids.get(0), 1, ids.get(1), ids.get(1));
        for (GPT2Block block : h) block.initialize(manager, dataType, x, mask);
        lnF.initialize(manager, dataType, x);
    }
}
