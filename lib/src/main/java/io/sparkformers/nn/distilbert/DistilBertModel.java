package io.sparkformers.nn.distilbert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.AttentionMasks;
import io.sparkformers.nn.EncoderOutputs;
import io.sparkformers.nn.NoGrad;

/**
 * Port of HF {@code DistilBertModel}: embeddings then transformer. Inputs: input_ids (B, T) int64, optionally
 * attention_mask (B, T) int64 (default all ones). Output: last_hidden_state (B, T, dim).
 */
public final class DistilBertModel extends DistilBertPreTrainedModel implements EncoderOutputs.Source {

    private final Embeddings embeddings;
    private final Transformer transformer;

    public DistilBertModel(DistilBertConfig c) {
        super(c);
        embeddings = addChildBlock("embeddings", new Embeddings(c));
        transformer = addChildBlock("transformer", new Transformer(c));
    }

    public Embeddings embeddings() {
        return embeddings;
    }

    @Override
    public boolean isBaseModel() {
        return true;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return transformer.forward(ps, embedded(ps, inputs, training), training);
    }

    /** HF {@code DistilBertModel(..., output_hidden_states, output_attentions)} in inference. */
    @Override
    public EncoderOutputs predictOutputs(NDList inputs, boolean outputHiddenStates, boolean outputAttentions) {
        try (NoGrad g = NoGrad.enter()) {
            ParameterStore ps = new ParameterStore(inputs.head().getManager(), false);
            NDList xMask = embedded(ps, inputs, false);
            return transformer.forwardOutputs(ps, xMask.get(0), xMask.get(1), outputHiddenStates, outputAttentions);
        }
    }

    /** The embeddings' output (B, T, dim) and the additive mask (B, 1, 1, T). */
    private NDList embedded(ParameterStore ps, NDList inputs, boolean training) {
        NDArray inputIds = inputs.get(0); // (B, T)
        if (inputIds.getShape().get(1) > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException(
                    "sequence length " + inputIds.getShape().get(1) + " exceeds max_position_embeddings "
                            + config.maxPositionEmbeddings());
        }
        NDArray attentionMask =
                inputs.size() > 1 ? inputs.get(1) : inputIds.getManager().ones(inputIds.getShape(), DataType.INT64);
        NDArray x = call(embeddings, ps, training, inputIds); // (B, T, dim)
        NDArray mask = AttentionMasks.extended(attentionMask, x.getDataType()); // (B, 1, 1, T)
        return new NDList(x, mask);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0].add(config.dim())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape ids = inputShapes[0];
        embeddings.initialize(manager, dataType, ids);
        transformer.initialize(manager, dataType, ids.add(config.dim()), new Shape(ids.get(0), 1, 1, ids.get(1)));
    }
}
