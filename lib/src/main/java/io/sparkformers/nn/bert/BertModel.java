package io.sparkformers.nn.bert;

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
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Port of HF {@code BertModel} (also {@code RobertaModel} / {@code XLMRobertaModel} by config): embeddings, encoder
 * and an optional pooler. Inputs: input_ids (B, T) int64, then optionally attention_mask (B, T) int64 (default all
 * ones) and token_type_ids (B, T) int64 (default zeros). Outputs: last_hidden_state (B, T, H) and, with the
 * pooler, pooler_output (B, H).
 */
public final class BertModel extends BertPreTrainedModel implements EncoderOutputs.Source {

    private final BertEmbeddings embeddings;
    private final BertEncoder encoder;
    private final BertPooler pooler;

    /** HF {@code BertModel(config, add_pooling_layer=withPooler)}. */
    public BertModel(BertConfig c, boolean withPooler) {
        super(c);
        embeddings = addChildBlock("embeddings", new BertEmbeddings(c));
        encoder = addChildBlock("encoder", new BertEncoder(c));
        pooler = withPooler ? addChildBlock("pooler", new BertPooler(c)) : null;
    }

    /** With pooler, like {@code BertModel(config)}. */
    public BertModel(BertConfig c) {
        this(c, true);
    }

    public BertEmbeddings embeddings() {
        return embeddings;
    }

    public boolean hasPooler() {
        return pooler != null;
    }

    @Override
    public boolean isBaseModel() {
        return true;
    }

    @Override
    public List<Pattern> ignoredOnLoad() {
        return ignoredKeys(hasPooler(), false);
    }

    /** Checkpoint keys BERT-family models never load: buffers, pre-training heads, an absent pooler. */
    static List<Pattern> ignoredKeys(boolean withPooler, boolean maskedLm) {
        List<Pattern> p = new ArrayList<>(List.of(
                Pattern.compile("(.*\\.)?embeddings\\.(position_ids|token_type_ids)"),
                Pattern.compile("cls\\.seq_relationship\\..*")));
        if (!withPooler) p.add(Pattern.compile("(.*\\.)?pooler\\..*"));
        p.add(Pattern.compile(
                maskedLm ? "(cls\\.predictions|lm_head)\\.decoder\\.weight" : "(cls\\.predictions|lm_head)\\..*"));
        return List.copyOf(p);
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray last = lastHiddenState(ps, inputs, training); // (B, T, H)
        if (pooler == null) return new NDList(last);
        return new NDList(last, pool(ps, last, training));
    }

    /** Embeddings and encoder only: last_hidden_state (B, T, H) for the inputs of {@link #forward}. */
    public NDArray lastHiddenState(ParameterStore ps, NDList inputs, boolean training) {
        NDList xMask = embedded(ps, inputs, training); // (B, T, H), then the mask unless nothing is padding
        return encoder.forward(ps, xMask, training).head();
    }

    /**
     * HF {@code BertModel(..., output_hidden_states, output_attentions)} in inference: the encoder's outputs (the
     * pooler is not run).
     */
    @Override
    public EncoderOutputs predictOutputs(NDList inputs, boolean outputHiddenStates, boolean outputAttentions) {
        try (NoGrad g = NoGrad.enter()) {
            ParameterStore ps = new ParameterStore(inputs.head().getManager(), false);
            NDList xMask = embedded(ps, inputs, false);
            NDArray mask = xMask.size() > 1 ? xMask.get(1) : null;
            return encoder.forwardOutputs(ps, xMask.get(0), mask, outputHiddenStates, outputAttentions);
        }
    }

    /** The embeddings' output (B, T, H), then the extended mask (B, 1, 1, T) unless nothing is padding. */
    private NDList embedded(ParameterStore ps, NDList inputs, boolean training) {
        NDArray inputIds = inputs.get(0); // (B, T)
        NDManager m = inputIds.getManager();
        Shape bt = inputIds.getShape();
        checkLength(bt.get(1));
        NDArray tokenTypeIds = inputs.size() > 2 ? inputs.get(2) : m.zeros(bt, DataType.INT64);
        NDArray x = embeddings
                .forward(ps, new NDList(inputIds, tokenTypeIds), training)
                .head(); // (B, T, H)
        if (inputs.size() < 2 || !AttentionMasks.hasPadding(inputs.get(1))) {
            return new NDList(x); // no padding: nothing to mask
        }
        return new NDList(x, AttentionMasks.extended(inputs.get(1), x.getDataType())); // mask (B, 1, 1, T)
    }

    /** The pooler on a last hidden state: pooler_output (B, H); an error for a model built without one. */
    public NDArray pool(ParameterStore ps, NDArray lastHiddenState, boolean training) {
        if (pooler == null) throw new IllegalStateException("this BertModel was built without a pooler");
        return call(pooler, ps, training, lastHiddenState);
    }

    private void checkLength(long seqLen) {
        long needed = config.robertaPositions() ? seqLen + config.padTokenId() + 1 : seqLen;
        if (needed > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("sequence length " + seqLen + " exceeds max_position_embeddings "
                    + config.maxPositionEmbeddings()
                    + (config.robertaPositions()
                            ? " (RoBERTa positions start at " + (config.padTokenId() + 1) + ")"
                            : ""));
        }
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape hidden = inputShapes[0].add(config.hiddenSize());
        if (pooler == null) return new Shape[] {hidden};
        return new Shape[] {hidden, new Shape(inputShapes[0].get(0), config.hiddenSize())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape ids = inputShapes[0];
        embeddings.initialize(manager, dataType, ids, ids);
        Shape hidden = ids.add(config.hiddenSize());
        encoder.initialize(manager, dataType, hidden, new Shape(ids.get(0), 1, 1, ids.get(1)));
        if (pooler != null) pooler.initialize(manager, dataType, hidden);
    }
}
