package io.sparkformers.nn.bart;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.nn.Activations;
import io.sparkformers.nn.ConfigJson;
import java.util.Map;
import java.util.TreeMap;

/**
 * HF {@code BartConfig} as an immutable validated value; JSON keys on disk are HF's, keys not modelled here (token
 * ids, generation defaults, labels) are kept in {@code extra} and written back. Layer drop is a training-time
 * feature and refused when set; so are encoder and decoder widths that differ (BART shares one d_model).
 *
 * @param vocabSize             rows of the shared token embedding and width of the logits (HF {@code vocab_size},
 *                              50265)
 * @param maxPositionEmbeddings longest sequence; the position tables hold this + 2 rows, the first two unused (HF
 *                              {@code max_position_embeddings}, 1024)
 * @param dModel                hidden width (HF {@code d_model}, 1024)
 * @param encoderLayers         encoder layers (HF {@code encoder_layers}, 12)
 * @param decoderLayers         decoder layers (HF {@code decoder_layers}, 12)
 * @param encoderAttentionHeads encoder heads, dividing d_model (HF {@code encoder_attention_heads}, 16)
 * @param decoderAttentionHeads decoder heads, dividing d_model (HF {@code decoder_attention_heads}, 16)
 * @param encoderFfnDim         encoder feed-forward width (HF {@code encoder_ffn_dim}, 4096)
 * @param decoderFfnDim         decoder feed-forward width (HF {@code decoder_ffn_dim}, 4096)
 * @param activationFunction    feed-forward activation (HF {@code activation_function}, gelu)
 * @param dropout               dropout on embeddings and sub-layer outputs (HF {@code dropout}, 0.1)
 * @param attentionDropout      dropout on attention probabilities (HF {@code attention_dropout}, 0)
 * @param activationDropout     dropout after the feed-forward activation (HF {@code activation_dropout}, 0)
 * @param initStd               std of the normal init of new weights (HF {@code init_std}, 0.02)
 * @param scaleEmbedding        token embeddings times sqrt(d_model) (HF {@code scale_embedding}, false)
 * @param padTokenId            padding token (HF {@code pad_token_id}, 1)
 * @param decoderStartTokenId   first decoder token (HF {@code decoder_start_token_id}, 2)
 * @param extra                 every other key of config.json, written back unchanged
 */
public record BartConfig(
        int vocabSize,
        int maxPositionEmbeddings,
        int dModel,
        int encoderLayers,
        int decoderLayers,
        int encoderAttentionHeads,
        int decoderAttentionHeads,
        int encoderFfnDim,
        int decoderFfnDim,
        String activationFunction,
        double dropout,
        double attentionDropout,
        double activationDropout,
        double initStd,
        boolean scaleEmbedding,
        int padTokenId,
        int decoderStartTokenId,
        ObjectNode extra) {

    /** BART's learned positions start at row 2 (HF {@code BartLearnedPositionalEmbedding.offset}). */
    public static final int POSITION_OFFSET = 2;

    public BartConfig {
        for (var e : Map.of(
                        "vocab_size", vocabSize,
                        "max_position_embeddings", maxPositionEmbeddings,
                        "d_model", dModel,
                        "encoder_layers", encoderLayers,
                        "decoder_layers", decoderLayers,
                        "encoder_attention_heads", encoderAttentionHeads,
                        "decoder_attention_heads", decoderAttentionHeads,
                        "encoder_ffn_dim", encoderFfnDim,
                        "decoder_ffn_dim", decoderFfnDim)
                .entrySet()) {
            if (e.getValue() <= 0)
                throw new IllegalArgumentException(e.getKey() + " must be > 0 but was " + e.getValue());
        }
        if (dModel % encoderAttentionHeads != 0 || dModel % decoderAttentionHeads != 0) {
            throw new IllegalArgumentException("d_model (" + dModel + ") is not a multiple of encoder_attention_heads ("
                    + encoderAttentionHeads + ") and decoder_attention_heads (" + decoderAttentionHeads + ")");
        }
        Activations.check(activationFunction);
        for (var e : Map.of(
                        "dropout",
                        dropout,
                        "attention_dropout",
                        attentionDropout,
                        "activation_dropout",
                        activationDropout)
                .entrySet()) {
            if (!(e.getValue() >= 0 && e.getValue() < 1)) {
                throw new IllegalArgumentException(e.getKey() + " must be in [0, 1) but was " + e.getValue());
            }
        }
        extra = extra == null ? JsonNodeFactory.instance.objectNode() : extra.deepCopy();
    }

    /** Parses an HF config.json object of model_type bart; absent keys take HF's defaults. */
    public static BartConfig fromJson(JsonNode json) {
        ConfigJson r = ConfigJson.reading(json);
        String type = r.stringOr("model_type", "bart");
        if (!"bart".equals(type)) throw new IllegalArgumentException("model_type '" + type + "' is not bart");
        for (String key : new String[] {"encoder_layerdrop", "decoder_layerdrop"}) {
            double v = r.doubleOr(key, 0.0);
            if (v != 0.0) throw new IllegalArgumentException(key + " " + v + " is not supported (only 0)");
        }
        if (r.boolOr("add_final_layer_norm", false) || r.boolOr("normalize_before", false)) {
            throw new IllegalArgumentException(
                    "add_final_layer_norm / normalize_before (mBART layouts) are not " + "supported for bart");
        }
        if (!r.boolOr("is_encoder_decoder", true)) {
            throw new IllegalArgumentException("bart with is_encoder_decoder false is not supported");
        }
        if (!r.boolOr("tie_word_embeddings", true)) {
            throw new IllegalArgumentException("bart with tie_word_embeddings false is not supported");
        }
        BartConfig c = new BartConfig(
                r.intOr("vocab_size", 50265),
                r.intOr("max_position_embeddings", 1024),
                r.intOr("d_model", 1024),
                r.intOr("encoder_layers", 12),
                r.intOr("decoder_layers", 12),
                r.intOr("encoder_attention_heads", 16),
                r.intOr("decoder_attention_heads", 16),
                r.intOr("encoder_ffn_dim", 4096),
                r.intOr("decoder_ffn_dim", 4096),
                r.stringOr("activation_function", "gelu"),
                r.doubleOr("dropout", 0.1),
                r.doubleOr("attention_dropout", 0.0),
                r.doubleOr("activation_dropout", 0.0),
                r.doubleOr("init_std", 0.02),
                r.boolOr("scale_embedding", false),
                r.intOr("pad_token_id", 1),
                r.intOr("decoder_start_token_id", 2),
                r.remaining());
        return c;
    }

    /** The HF config.json object, keys sorted, unknown keys kept. */
    public ObjectNode toJson() {
        TreeMap<String, JsonNode> all = new TreeMap<>();
        extra.fields().forEachRemaining(e -> all.put(e.getKey(), e.getValue().deepCopy()));
        JsonNodeFactory f = JsonNodeFactory.instance;
        all.put("model_type", f.textNode("bart"));
        all.put("vocab_size", f.numberNode(vocabSize));
        all.put("max_position_embeddings", f.numberNode(maxPositionEmbeddings));
        all.put("d_model", f.numberNode(dModel));
        all.put("encoder_layers", f.numberNode(encoderLayers));
        all.put("decoder_layers", f.numberNode(decoderLayers));
        all.put("encoder_attention_heads", f.numberNode(encoderAttentionHeads));
        all.put("decoder_attention_heads", f.numberNode(decoderAttentionHeads));
        all.put("encoder_ffn_dim", f.numberNode(encoderFfnDim));
        all.put("decoder_ffn_dim", f.numberNode(decoderFfnDim));
        all.put("activation_function", f.textNode(activationFunction));
        all.put("dropout", f.numberNode(dropout));
        all.put("attention_dropout", f.numberNode(attentionDropout));
        all.put("activation_dropout", f.numberNode(activationDropout));
        all.put("init_std", f.numberNode(initStd));
        all.put("scale_embedding", f.booleanNode(scaleEmbedding));
        all.put("pad_token_id", f.numberNode(padTokenId));
        all.put("decoder_start_token_id", f.numberNode(decoderStartTokenId));
        all.put("is_encoder_decoder", f.booleanNode(true));
        ObjectNode out = f.objectNode();
        all.forEach(out::set);
        return out;
    }
}
