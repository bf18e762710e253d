package io.sparkformers.nn.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.nn.CausalLanguageModel;
import io.sparkformers.nn.DerivedWeights;
import io.sparkformers.nn.KvBuffer;
import io.sparkformers.nn.NoGrad;
import io.sparkformers.nn.PretrainedModel;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Port of HF {@code LlamaForCausalLM} (and {@code MistralForCausalLM}, {@code Qwen2ForCausalLM}: the same keys,
 * configured by {@link LlamaConfig}): {@code model} ({@link LlamaModel}) then {@code lm_head}, which is the token
 * embedding itself when {@code tie_word_embeddings} (no {@code lm_head.weight} of its own, as in HF's files).
 * Block inputs: input_ids (B, T), optionally attention_mask and position_ids; output: logits (B, T, V). As a
 * {@link CausalLanguageModel} it runs with a key/value cache, and computes the head only for the positions whose
 * logits are kept (HF's {@code logits_to_keep}); an untied head runs in inference over its weight in the shared layout
 * ({@link SharedProjection}).
 */
public final class LlamaForCausalLM extends PretrainedModel implements CausalLanguageModel, DerivedWeights {

    private final LlamaConfig config;
    private final LlamaModel model;
    /** null when tied to {@code model.embed_tokens}. */
    private final Linear lmHead;
    /** null when tied. */
    private final SharedProjection sharedHead;

    public LlamaForCausalLM(LlamaConfig c) {
        config = c;
        model = addChildBlock("model", new LlamaModel(c));
        lmHead = c.tieWordEmbeddings()
                ? null
                : addChildBlock(
                        "lm_head",
                        Linear.builder().setUnits(c.vocabSize()).optBias(false).build());
        sharedHead = lmHead == null ? null : new SharedProjection(lmHead);
    }

    public LlamaConfig config() {
        return config;
    }

    public LlamaModel model() {
        return model;
    }

    @Override
    public int vocabSize() {
        return config.vocabSize();
    }

    /** (B, T, H) -> logits (B, T, V). */
    private NDArray head(ParameterStore ps, NDArray hidden, boolean training) {
        if (lmHead != null) {
            if (training) sharedHead.unshare(ps, hidden);
            if (SharedProjection.applies(ps, hidden, training)) return sharedHead.apply(ps, hidden);
            return call(lmHead, ps, training, hidden);
        }
        NDArray w = ps.getValue(model.embedTokens().weight(), hidden.getDevice(), training); // (V, H)
        return hidden.getNDArrayInternal().linear(hidden, w, null).head();
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray hidden = model.forward(ps, inputs, training).head(); // (B, T, H)
        return new NDList(head(ps, hidden, training)); // (B, T, V)
    }

    @Override
    public void weightsChanged() {
        if (sharedHead != null) sharedHead.weightsChanged();
    }

    @Override
    public Step forward(NDArray inputIds, NDArray attentionMask, NDArray positionIds, KvCache cache) {
        return forward(inputIds, attentionMask, positionIds, cache, 0);
    }

    @Override
    public Step forward(NDArray inputIds, NDArray attentionMask, NDArray positionIds, KvCache cache, int logitsToKeep) {
        if (cache != null && !(cache instanceof LlamaKvCache)) {
            throw new IllegalArgumentException("a " + getClass().getSimpleName() + " cannot continue a "
                    + cache.getClass().getSimpleName());
        }
        LlamaKvCache past = (LlamaKvCache) cache;
        int p = past == null ? 0 : past.length();
        long[] ids = inputIds.getShape().getShape();
        long[] mask = attentionMask.getShape().getShape();
        if (ids.length != 2 || mask.length != 2 || mask[0] != ids[0] || mask[1] != p + ids[1]) {
            throw new IllegalArgumentException("attention_mask must be (B, P + T) = (" + ids[0] + ", " + (p + ids[1])
                    + ") for input_ids " + Arrays.toString(ids) + " after " + p + " cached positions, got "
                    + Arrays.toString(mask));
        }
        if (!Arrays.equals(positionIds.getShape().getShape(), ids)) {
            throw new IllegalArgumentException("position_ids must have the shape of input_ids " + Arrays.toString(ids)
                    + ", got " + positionIds.getShape());
        }
        NDManager caller = inputIds.getManager();
        KvBuffer buffer = past == null
                ? new KvBuffer(model.embedTokens().weight().getArray().getManager(), config.numHiddenLayers())
                : past.take();
        try (NoGrad g = NoGrad.enter();
                NDManager scope = caller.newSubManager()) {
            for (NDArray a : List.of(inputIds, attentionMask, positionIds)) a.tempAttach(scope);
            ParameterStore ps = new ParameterStore(scope, false);
            NDArray hidden = model.forward(ps, inputIds, attentionMask, positionIds, buffer, false);
            NDArray logits = head(ps, CausalLanguageModel.lastPositions(hidden, logitsToKeep), false); // (B, kept, V)
            logits.attach(caller);
            buffer.advance((int) ids[1]);
            return new Step(logits, new LlamaKvCache(buffer));
        } catch (RuntimeException e) {
            buffer.close();
            throw e;
        }
    }

    /** {@code LlamaForCausalLM}, {@code MistralForCausalLM} or {@code Qwen2ForCausalLM}, by model type. */
    @Override
    public String architecture() {
        return config.causalLmArchitecture();
    }

    @Override
    public String baseModelPrefix() {
        return "model";
    }

    @Override
    public ObjectNode configJson() {
        return config.toJson();
    }

    @Override
    public double initializerRange() {
        return config.initializerRange();
    }

    @Override
    protected int numInputs() {
        return 3;
    }

    /** Rotary buffers of older exports, and the head's copy of a tied embedding. */
    @Override
    public List<Pattern> ignoredOnLoad() {
        Pattern rotary = Pattern.compile("model\\.(layers\\.\\d+\\.self_attn\\.)?rotary_emb\\.inv_freq");
        return config.tieWordEmbeddings() ? List.of(rotary, Pattern.compile("lm_head\\.weight")) : List.of(rotary);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0].add(config.vocabSize())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        model.initialize(manager, dataType, inputShapes);
        if (lmHead != null) lmHead.initialize(manager, dataType, inputShapes[0].add(config.hiddenSize()));
    }
}
