package io.sparkformers.nn.bart;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.nn.AttentionMasks;
import io.sparkformers.nn.DerivedWeights;
import io.sparkformers.nn.NoGrad;
import io.sparkformers.nn.PretrainedModel;
import io.sparkformers.nn.Seq2SeqLanguageModel;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Port of HF {@code BartForConditionalGeneration}: {@code model} ({@link BartModel}: the shared token table, the
 * encoder and the decoder) and the LM head, which is the shared table itself plus the {@code final_logits_bias}
 * buffer (1, V). Block inputs: input_ids (B, S), attention_mask (B, S), decoder_input_ids (B, T); output: logits
 * (B, T, V), the decoder causal and unpadded as in HF's generate. As a {@link Seq2SeqLanguageModel} it encodes once
 * and decodes with self- and cross-attention caches.
 */
public class BartForConditionalGeneration extends PretrainedModel implements Seq2SeqLanguageModel, DerivedWeights {

    private final BartConfig config;
    private final BartModel model;
    private final Parameter finalLogitsBias;
    /** Whether final_logits_bias is all zeros; null until looked at after the last load. */
    private volatile Boolean zeroLogitsBias;

    public BartForConditionalGeneration(BartConfig c) {
        this(c, BartPositions.LEARNED);
    }

    /** The same layout with other positions: {@code MarianMTModel} passes {@link BartPositions#SINUSOIDAL}. */
    protected BartForConditionalGeneration(BartConfig c, BartPositions positions) {
        config = c;
        model = addChildBlock("model", new BartModel(c, positions));
        finalLogitsBias = addParameter(Parameter.builder()
                .setName("final_logits_bias")
                .setType(Parameter.Type.BIAS)
                .optShape(new Shape(1, c.vocabSize()))
                .optRequiresGrad(false) // HF registers it as a buffer: loaded and saved, never trained
                .build());
    }

    public BartConfig config() {
        return config;
    }

    @Override
    public int vocabSize() {
        return config.vocabSize();
    }

    /**
     * (B, T, D) -> logits (B, T, V): the shared table as the output projection, plus final_logits_bias. Outside
     * training a bias of zeros (BART's and Marian's usual buffer) is not added: a pass over B·T·V logits per decoded
     * token saved, the same logits.
     */
    private NDArray lmHead(ParameterStore ps, NDArray hidden, boolean training) {
        NDArray w = ps.getValue(model.shared().weight(), hidden.getDevice(), training); // (V, D)
        NDArray bias =
                ps.getValue(finalLogitsBias, hidden.getDevice(), training).reshape(-1); // (V)
        if (!training && zeroBias(bias)) return hidden.matMul(w.transpose()); // (B, T, D) · (D, V)
        return hidden.getNDArrayInternal().linear(hidden, w, bias).head();
    }

    private boolean zeroBias(NDArray bias) {
        Boolean z = zeroLogitsBias;
        if (z == null) {
            try (NDArray nonZero = bias.countNonzero()) {
                z = nonZero.getLong() == 0;
            }
            zeroLogitsBias = z;
        }
        return z;
    }

    @Override
    public void weightsChanged() {
        zeroLogitsBias = null;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray ids = inputs.get(0);
        NDArray mask = inputs.size() > 1 ? inputs.get(1) : ids.onesLike();
        NDArray decoderIds = inputs.size() > 2 ? inputs.get(2) : ids;
        NDArray encoded = model.encode(ps, ids, mask, training);
        NDArray[][] cross = model.crossKeysValues(ps, encoded, training);
        NDArray hidden =
                model.decode(ps, decoderIds, 0, new NDArray[cross.length][2], cross, encoderMask(mask), training);
        return new NDList(lmHead(ps, hidden, training));
    }

    private static NDArray encoderMask(NDArray mask) {
        return AttentionMasks.extended(mask, DataType.FLOAT32); // (B, 1, 1, S)
    }

    @Override
    public NDArray encode(NDArray inputIds, NDArray attentionMask) {
        try (NoGrad g = NoGrad.enter()) {
            return model.encode(new ParameterStore(inputIds.getManager(), false), inputIds, attentionMask, false);
        }
    }

    @Override
    public Cache startDecoding(NDArray encoderStates, NDArray attentionMask) {
        try (NoGrad g = NoGrad.enter()) {
            ParameterStore ps = new ParameterStore(encoderStates.getManager(), false);
            NDArray[][] cross = model.crossKeysValues(ps, encoderStates, false);
            return new Cache(encoderStates.getDevice(), cross, encoderMask(attentionMask));
        }
    }

    @Override
    public NDArray decode(NDArray decoderInputIds, Cache cache) {
        return cache.step(decoderInputIds, (ps, past, self, cross, encoderMask) -> {
            NDArray hidden = model.decode(ps, decoderInputIds, past, self, cross, encoderMask, false); // (B, T, D)
            return lmHead(ps, hidden, false);
        });
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
        return config.initStd();
    }

    @Override
    protected int numInputs() {
        return 3;
    }

    /** The tied copies of the shared table (encoder/decoder embed_tokens, lm_head), not stored apart by HF. */
    @Override
    public List<Pattern> ignoredOnLoad() {
        return List.of(
                Pattern.compile("model\\.(encoder|decoder)\\.embed_tokens\\.weight"),
                Pattern.compile("lm_head\\.weight"));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape decoder = inputShapes.length > 2 ? inputShapes[2] : inputShapes[0];
        return new Shape[] {decoder.add(config.vocabSize())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        model.initialize(manager, dataType, inputShapes);
    }
}
