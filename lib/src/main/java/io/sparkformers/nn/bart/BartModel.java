package io.sparkformers.nn.bart;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.sparkformers.nn.AttentionMasks;
import io.sparkformers.nn.Embedding;
import io.sparkformers.nn.HfBlock;
import io.sparkformers.nn.Seq2SeqLanguageModel;

/**
 * Port of HF {@code BartModel} (and of {@code MarianModel} with {@link BartPositions#SINUSOIDAL}): {@code shared} (the token table of encoder, decoder and LM head), {@code encoder},
 * {@code decoder}. Block inputs: input_ids (B, S), attention_mask (B, S), decoder_input_ids (B, T); output: the
 * decoder's last hidden state (B, T, D).
 */
public final class BartModel extends HfBlock {

    private final BartConfig config;
    private final Embedding shared;
    private final BartStack encoder;
    private final BartStack decoder;

    public BartModel(BartConfig c) {
        this(c, BartPositions.LEARNED);
    }

    public BartModel(BartConfig c, BartPositions positions) {
        config = c;
        shared = addChildBlock("shared", new Embedding(c.vocabSize(), c.dModel(), c.padTokenId()));
        encoder = addChildBlock("encoder", new BartStack(c, false, positions));
        decoder = addChildBlock("decoder", new BartStack(c, true, positions));
    }

    Embedding shared() {
        return shared;
    }

    /** input_ids (B, S), attention_mask (B, S) -> (B, S, D). */
    NDArray encode(ParameterStore ps, NDArray ids, NDArray mask, boolean training) {
        NDArray additive = AttentionMasks.hasPadding(mask) ? AttentionMasks.extended(mask, DataType.FLOAT32) : null;
        int n = config.encoderLayers();
        return encoder.forward(
                ps, call(shared, ps, training, ids), 0, additive, new NDArray[n][2], null, null, training);
    }

    /** Every decoder layer's cross-attention {k, v} (B, nh, S, hd) of the encoder states (B, S, D). */
    NDArray[][] crossKeysValues(ParameterStore ps, NDArray encoderStates, boolean training) {
        NDArray[][] out = new NDArray[config.decoderLayers()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = decoder.layers().get(i).encoderAttn().keysValues(ps, encoderStates, training);
        }
        return out;
    }

    /** decoder_input_ids (B, T) after P cached positions -> (B, T, D); {@code self} grows by T positions. */
    NDArray decode(
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
        NDArray encoderMask = AttentionMasks.extended(mask, DataType.FLOAT32);
        return new NDList(
                decode(ps, decoderIds, 0, new NDArray[config.decoderLayers()][2], cross, encoderMask, training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape decoderIds = inputShapes.length > 2 ? inputShapes[2] : inputShapes[0];
        return new Shape[] {decoderIds.add(config.dModel())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        shared.initialize(manager, dataType, new Shape(1, 1));
        encoder.initialize(manager, dataType, new Shape(1, 1));
        decoder.initialize(manager, dataType, new Shape(1, 1));
    }
}
