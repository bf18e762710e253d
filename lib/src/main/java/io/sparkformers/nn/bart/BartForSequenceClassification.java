package io.sparkformers.nn.bart;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.nn.NativeArrays;
import io.sparkformers.nn.PretrainedModel;

/**
 * Port of HF {@code BartForSequenceClassification}, the layout of the usual zero-shot NLI checkpoints: {@code model}
 * ({@link BartModel}) run with decoder_input_ids = input_ids shifted right (HF's {@code shift_tokens_right} from
 * {@code decoder_start_token_id}), the decoder's hidden state at each row's last {@code eos_token_id} as the sentence
 * representation, then {@code classification_head} ({@link BartClassificationHead}). Block inputs: input_ids (B, S),
 * attention_mask (B, S) (a third input, token types, is ignored); output: logits (B, num_labels). As in HF every row
 * must hold the same number of eos tokens (one per segment), else the forward fails saying so.
 */
public final class BartForSequenceClassification extends PretrainedModel {

    private final BartConfig config;
    private final BartModel model;
    private final BartClassificationHead classificationHead;
    private final long eosTokenId;
    private final int numLabels;

    public BartForSequenceClassification(BartConfig c) {
        config = c;
        JsonNode extra = c.extra();
        JsonNode labels = extra.path("id2label");
        numLabels = labels.isObject() && !labels.isEmpty()
                ? labels.size()
                : extra.path("num_labels").asInt(3);
        eosTokenId = extra.path("eos_token_id").asLong(2);
        model = addChildBlock("model", new BartModel(c));
        classificationHead =
                addChildBlock("classification_head", new BartClassificationHead(c.dModel(), numLabels, (float)
                        extra.path("classifier_dropout").asDouble(0.0)));
    }

    public BartConfig config() {
        return config;
    }

    /** HF {@code shift_tokens_right}: (B, S) → decoder_start_token_id then every token but the last. */
    private NDArray shiftTokensRight(NDArray ids) {
        long b = ids.getShape().get(0);
        NDArray start = ids.getManager().full(new Shape(b, 1), config.decoderStartTokenId(), ids.getDataType());
        return NDArrays.concat(new NDList(start, ids.get(":, :-1")), 1);
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray ids = inputs.get(0); // (B, S)
        NDArray mask = inputs.size() > 1 ? inputs.get(1) : ids.onesLike();
        NDArray hidden = model.forward(ps, new NDList(ids, mask, shiftTokensRight(ids)), training)
                .head(); // (B, S, D)
        long b = hidden.getShape().get(0);
        long s = hidden.getShape().get(1);
        long d = hidden.getShape().get(2);
        NDArray eos = ids.eq(eosTokenId); // (B, S)
        long[] counts = eos.toType(DataType.INT64, false).sum(new int[] {1}).toLongArray();
        for (long n : counts) {
            if (n != counts[0] || n == 0) {
                throw new IllegalArgumentException("All examples must have the same number of <eos> tokens (token id "
                        + eosTokenId + "), got " + java.util.Arrays.toString(counts) + " per row");
            }
        }
        NDManager m = ids.getManager();
        NDArray positions = m.arange(0, s, 1, DataType.INT64).reshape(1, s); // (1, S)
        NDArray last = positions.mul(eos.toType(DataType.INT64, false)).max(new int[] {1}); // (B): last eos
        NDArray rows = NativeArrays.mul(m.arange(0, b, 1, DataType.INT64), s).add(last); // (B) into (B × S)
        NDArray sentence = hidden.reshape(b * s, d).get(new NDIndex("{}", rows)); // (B, D)
        return new NDList(call(classificationHead, ps, training, sentence)); // (B, C)
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
        return 2;
    }

    /** The tied copies of the shared table (encoder/decoder embed_tokens), not stored apart by HF. */
    @Override
    public java.util.List<java.util.regex.Pattern> ignoredOnLoad() {
        return java.util.List.of(java.util.regex.Pattern.compile("model\\.(encoder|decoder)\\.embed_tokens\\.weight"));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), numLabels)};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        model.initialize(manager, dataType, inputShapes[0], inputShapes[0], inputShapes[0]);
        classificationHead.initialize(manager, dataType, new Shape(inputShapes[0].get(0), config.dModel()));
    }
}
