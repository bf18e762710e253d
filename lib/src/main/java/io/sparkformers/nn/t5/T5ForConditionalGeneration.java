package io.sparkformers.nn.t5;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.nn.AttentionMasks;
import io.sparkformers.nn.Embedding;
import io.sparkformers.nn.NativeArrays;
import io.sparkformers.nn.NoGrad;
import io.sparkformers.nn.PretrainedModel;
import io.sparkformers.nn.Seq2SeqLanguageModel;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Port of HF {@code T5ForConditionalGeneration} (v1.0, v1.1, FLAN-T5): {@code shared} token table, {@code encoder}
 * and {@code decoder} ({@link T5Stack}), and the LM head: {@code lm_head} (untied, v1.1) or the shared table applied
 * to the decoder output scaled by d_model^-0.5 (tied, v1.0). Block inputs: input_ids (B, S), attention_mask (B, S),
 * decoder_input_ids (B, T); output: logits (B, T, V). As a {@link Seq2SeqLanguageModel} it encodes once and decodes
 * with self- and cross-attention caches.
 */
public final class T5ForConditionalGeneration extends PretrainedModel implements Seq2SeqLanguageModel {

    private final T5Config config;
    private final Embedding shared;
    private final T5Stack encoder;
    private final T5Stack decoder;
    /** null when tied to {@code shared}. */
    private final Linear lmHead;

    public T5ForConditionalGeneration(T5Config c) {
        config = c;
        shared = addChildBlock("shared", new Embedding(c.vocabSize(), c.dModel(), null));
        encoder = addChildBlock("encoder", new T5Stack(c, false));
        decoder = addChildBlock("decoder", new T5Stack(c, true));
        lmHead = c.tieWordEmbeddings() ? null : addChildBlock("lm_head", T5Attention.linear(c.vocabSize()));
    }

    public T5Config config() {
        return config;
    }

    @Override
    public int vocabSize() {
        return config.vocabSize();
    }

    /** (B, T, D) -> logits (B, T, V). */
    private NDArray head(ParameterStore ps, NDArray hidden, boolean training) {
        if (lmHead != null) return call(lmHead, ps, training, hidden);
        NDArray w = ps.getValue(shared.weight(), hidden.getDevice(), training); // (V, D)
        NDArray scaled = NativeArrays.mul(hidden, config.headScale());
        return scaled.getNDArrayInternal().linear(scaled, w, null).head();
    }

    private NDArray encode(ParameterStore ps, NDArray ids, NDArray mask, boolean training) {
        NDArray additive = AttentionMasks.extended(mask, DataType.FLOAT32); // (B, 1, 1, S)
        NDArray[][] kv = new NDArray[config.numLayers()][2];
        return encoder.forward(ps, call(shared, ps, training, ids), 0, additive, kv, null, null, training);
    }

    private NDArray[][] crossKeysValues(ParameterStore ps, NDArray states, boolean training) {
        NDArray[][] out = new NDArray[config.numDecoderLayers()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = decoder.blocks().get(i).encDecAttention().keysValues(ps, states, training);
        }
        return out;
    }

    private NDArray decodeHidden(
            ParameterStore ps,
            NDArray ids,
            long past,
            NDArray[][] self,
            NDArray[][] cross,
            NDArray encoderMask,
            boolean training) {
        long t = ids.getShape().get(1);
        NDArray causal = t > 1 ? Seq2SeqLanguageModel.causalMask(ids.getManager(), past, t) : null;
        return decoder.forward(ps, call(shared, ps, training, ids), past, causal, self, cross, encoderMask, training);
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray ids = inputs.get(0);
        NDArray mask = inputs.size() > 1 ? inputs.get(1) : ids.onesLike();
        NDArray decoderIds = inputs.size() > 2 ? inputs.get(2) : ids;
        NDArray encoded = encode(ps, ids, mask, training);
        NDArray[][] cross = crossKeysValues(ps, encoded, training);
        NDArray hidden = decodeHidden(
                ps,
                decoderIds,
                0,
                new NDArray[config.numDecoderLayers()][2],
                cross,
                AttentionMasks.extended(mask, DataType.FLOAT32),
                training);
        return new NDList(head(ps, hidden, training));
    }

    @Override
    public NDArray encode(NDArray inputIds, NDArray attentionMask) {
        try (NoGrad g = NoGrad.enter()) {
            return encode(new ParameterStore(inputIds.getManager(), false), inputIds, attentionMask, false);
        }
    }

    @Override
    public Cache startDecoding(NDArray encoderStates, NDArray attentionMask) {
        try (NoGrad g = NoGrad.enter()) {
            ParameterStore ps = new ParameterStore(encoderStates.getManager(), false);
            NDArray[][] cross = crossKeysValues(ps, encoderStates, false);
            return new Cache(
                    encoderStates.getDevice(), cross, AttentionMasks.extended(attentionMask, DataType.FLOAT32));
        }
    }

    @Override
    public NDArray decode(NDArray decoderInputIds, Cache cache) {
        return cache.step(
                decoderInputIds,
                (ps, past, self, cross, encoderMask) ->
                        head(ps, decodeHidden(ps, decoderInputIds, past, self, cross, encoderMask, false), false));
    }

    @Override
    public String baseModelPrefix() {
        return "transformer";
    }

    @Override
    public ObjectNode configJson() {
        return config.toJson();
    }

    @Override
    public double initializerRange() {
        return config.initializerFactor();
    }

    @Override
    protected int numInputs() {
        return 3;
    }

    /** The tied copies of the shared table (encoder/decoder embed_tokens, a tied lm_head), not stored apart. */
    @Override
    public List<Pattern> ignoredOnLoad() {
        Pattern embed = Pattern.compile("(encoder|decoder)\\.embed_tokens\\.weight");
        return config.tieWordEmbeddings() ? List.of(embed, Pattern.compile("lm_head\\.weight")) : List.of(embed);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape decoderIds = inputShapes.length > 2 ? inputShapes[2] : inputShapes[0];
        return new Shape[] {decoderIds.add(config.vocabSize())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        shared.initialize(manager, dataType, new Shape(1, 1));
        encoder.initialize(manager, dataType, new Shape(1, 1));
        decoder.initialize(manager, dataType, new Shape(1, 1));
        if (lmHead != null) lmHead.initialize(manager, dataType, new Shape(1, 1, config.dModel()));
    }
}
