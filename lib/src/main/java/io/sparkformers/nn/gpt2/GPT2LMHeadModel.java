package io.sparkformers.nn.gpt2;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.CausalLanguageModel;
import io.sparkformers.nn.Losses;
import io.sparkformers.nn.NoGrad;

/**
 * Port of HF {@code GPT2LMHeadModel}: {@code lm_head(transformer(ids))} with lm_head's weight tied to
 * {@code transformer.wte.weight} (no parameter of its own, no bias; HF's save_pretrained writes no
 * {@code lm_head.weight} either). Inputs as {@link GPT2Model}; output: logits (B, T, vocab).
 */
public final class GPT2LMHeadModel extends GPT2PreTrainedModel implements CausalLanguageModel {

    private final GPT2Model transformer;

    public GPT2LMHeadModel(GPT2Config c) {
        super(c);
        transformer = addChildBlock("transformer", new GPT2Model(c));
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray hidden = transformer.forward(ps, inputs, training).head(); // (B, T, D)
        return new NDList(lmHead(ps, hidden, training));
    }

    private NDArray lmHead(ParameterStore ps, NDArray hidden, boolean training) {
        NDArray wte = ps.getValue(transformer.wte().weight(), hidden.getDevice(), training); // (V, D)
        return hidden.matMul(wte.transpose()); // (B, T, D) -> (B, T, V)
    }

    @Override
    public Step forward(NDArray inputIds, NDArray attentionMask, NDArray positionIds, KvCache cache) {
        return forward(inputIds, attentionMask, positionIds, cache, 0);
    }

    /** As HF's {@code logits_to_keep}: the tied 50,257-wide head runs only on the kept positions (prefill: the last). */
    @Override
    public Step forward(NDArray inputIds, NDArray attentionMask, NDArray positionIds, KvCache cache, int logitsToKeep) {
        GPT2Cache c = cache == null ? GPT2Cache.empty(inputIds.getDevice(), config.nLayer()) : (GPT2Cache) cache;
        long t = inputIds.getShape().get(1);
        if (attentionMask.getShape().get(1) != c.length() + t) {
            throw new IllegalArgumentException(
                    "attention_mask covers " + attentionMask.getShape().get(1) + " positions but the cache holds "
                            + c.length() + " and " + t + " are new");
        }
        try (NoGrad g = NoGrad.enter()) {
            ParameterStore ps = new ParameterStore(inputIds.getManager(), false);
            c.begin();
            NDArray hidden = transformer.forward(ps, inputIds, attentionMask, positionIds, c, false);
            NDArray logits = lmHead(ps, CausalLanguageModel.lastPositions(hidden, logitsToKeep), false); // (B, kept, V)
            return new Step(logits, c.commit((int) t));
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    @Override
    public int vocabSize() {
        return config.vocabSize();
    }

    /** HF's causal LM loss: logits at t predict labels at t + 1, labels -100 ignored. */
    public NDArray loss(NDArray logits, NDArray labels) {
        long t = logits.getShape().get(1);
        return Losses.crossEntropy(logits.get(":, :{}", t - 1), labels.get(":, 1:"));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0].add(config.vocabSize())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        transformer.initialize(manager, dataType, inputShapes);
    }
}
