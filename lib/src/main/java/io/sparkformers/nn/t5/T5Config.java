package io.sparkformers.nn.t5;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.nn.Activations;
import io.sparkformers.nn.ConfigJson;
import java.util.Map;
import java.util.TreeMap;

/**
 * HF {@code T5Config} (T5 v1.0, v1.1 and FLAN-T5 checkpoints) as an immutable validated value; JSON keys on disk are
 * HF's, keys not modelled here (token ids, task_specific_params, …) are kept in {@code extra} and written back.
 * {@code feed_forward_proj} is {@code ACT} or {@code gated-ACT} (ACT one of {@link Activations#SUPPORTED}; HF maps
 * {@code gated-gelu} to gelu_new); anything else is refused.
 *
 * @param vocabSize                     rows of the shared token table (HF {@code vocab_size}, 32128)
 * @param dModel                        hidden width (HF {@code d_model}, 512)
 * @param dKv                           width of one attention head (HF {@code d_kv}, 64)
 * @param dFf                           feed-forward width (HF {@code d_ff}, 2048)
 * @param numLayers                     encoder blocks (HF {@code num_layers}, 6)
 * @param numDecoderLayers              decoder blocks (HF {@code num_decoder_layers}, default num_layers)
 * @param numHeads                      attention heads (HF {@code num_heads}, 8)
 * @param relativeAttentionNumBuckets   relative position buckets (HF {@code relative_attention_num_buckets}, 32)
 * @param relativeAttentionMaxDistance  distance of the last, logarithmic bucket (HF
 *                                      {@code relative_attention_max_distance}, 128)
 * @param dropoutRate                   dropout everywhere (HF {@code dropout_rate}, 0.1)
 * @param layerNormEpsilon              T5LayerNorm epsilon (HF {@code layer_norm_epsilon}, 1e-6)
 * @param initializerFactor             scale of HF's T5 init (HF {@code initializer_factor}, 1.0)
 * @param feedForwardProj               {@code relu} (v1.0) or {@code gated-gelu} (v1.1), … (HF
 *                                      {@code feed_forward_proj}, relu)
 * @param tieWordEmbeddings             lm_head is the shared table, the decoder output scaled by d_model^-0.5 first
 *                                      (HF {@code tie_word_embeddings}, true; v1.1 false)
 * @param padTokenId                    padding token, also the decoder start (HF {@code pad_token_id}, 0)
 * @param decoderStartTokenId           first decoder token (HF {@code decoder_start_token_id}, 0)
 * @param extra                         every other key of config.json, written back unchanged
 */
public record T5Config(
        int vocabSize,
        int dModel,
        int dKv,
        int dFf,
        int numLayers,
        int numDecoderLayers,
        int numHeads,
        int relativeAttentionNumBuckets,
        int relativeAttentionMaxDistance,
        double dropoutRate,
        double layerNormEpsilon,
        double initializerFactor,
        String feedForwardProj,
        boolean tieWordEmbeddings,
        int padTokenId,
        int decoderStartTokenId,
        ObjectNode extra) {

    public T5Config {
        for (var e : Map.of(
                        "vocab_size", vocabSize,
                        "d_model", dModel,
                        "d_kv", dKv,
                        "d_ff", dFf,
                        "num_layers", numLayers,
                        "num_decoder_layers", numDecoderLayers,
                        "num_heads", numHeads,
                        "relative_attention_num_buckets", relativeAttentionNumBuckets,
                        "relative_attention_max_distance", relativeAttentionMaxDistance)
                .entrySet()) {
            if (e.getValue() <= 0)
                throw new IllegalArgumentException(e.getKey() + " must be > 0 but was " + e.getValue());
        }
        if (!(dropoutRate >= 0 && dropoutRate < 1))
            throw new IllegalArgumentException("dropout_rate must be in [0, 1) but was " + dropoutRate);
        if (!(layerNormEpsilon > 0))
            throw new IllegalArgumentException("layer_norm_epsilon must be > 0 but was " + layerNormEpsilon);
        String[] parts = feedForwardProj.split("-");
        if (parts.length > 2 || (parts.length == 2 && !parts[0].equals("gated"))) {
            throw new IllegalArgumentException("feed_forward_proj '" + feedForwardProj
                    + "' is not supported: use ACT or gated-ACT, ACT one of " + Activations.SUPPORTED);
        }
        Activations.check(parts[parts.length - 1]);
        extra = extra == null ? JsonNodeFactory.instance.objectNode() : extra.deepCopy();
    }

    /** v1.1's gated feed-forward: act(wi_0 x) * wi_1 x. */
    public boolean isGatedAct() {
        return feedForwardProj.startsWith("gated-");
    }

    /** The feed-forward activation (HF {@code dense_act_fn}; gated-gelu means gelu_new, as HF). */
    public String denseActFn() {
        if (feedForwardProj.equals("gated-gelu")) return "gelu_new";
        String[] parts = feedForwardProj.split("-");
        return parts[parts.length - 1];
    }

    /** The decoder output's scale before a tied head: d_model^-0.5, else 1. */
    public float headScale() {
        return tieWordEmbeddings ? (float) Math.pow(dModel, -0.5) : 1f;
    }

    /** Parses an HF config.json object of model_type t5; absent keys take HF's defaults. */
    public static T5Config fromJson(JsonNode json) {
        ConfigJson r = ConfigJson.reading(json);
        String type = r.stringOr("model_type", "t5");
        if (!"t5".equals(type)) throw new IllegalArgumentException("model_type '" + type + "' is not t5");
        if (!r.boolOr("is_encoder_decoder", true)) {
            throw new IllegalArgumentException("t5 with is_encoder_decoder false is not supported");
        }
        int layers = r.intOr("num_layers", 6);
        String proj = r.stringOr("feed_forward_proj", "relu");
        r.stringOr("dense_act_fn", null); // derived from feed_forward_proj, as HF does
        r.boolOr("is_gated_act", false);
        int pad = r.intOr("pad_token_id", 0);
        return new T5Config(
                r.intOr("vocab_size", 32128),
                r.intOr("d_model", 512),
                r.intOr("d_kv", 64),
                r.intOr("d_ff", 2048),
                layers,
                r.intOr("num_decoder_layers", layers),
                r.intOr("num_heads", 8),
                r.intOr("relative_attention_num_buckets", 32),
                r.intOr("relative_attention_max_distance", 128),
                r.doubleOr("dropout_rate", 0.1),
                r.doubleOr("layer_norm_epsilon", 1e-6),
                r.doubleOr("initializer_factor", 1.0),
                proj,
                r.boolOr("tie_word_embeddings", true),
                pad,
                r.intOr("decoder_start_token_id", pad),
                r.remaining());
    }

    /** The HF config.json object, keys sorted, unknown keys kept. */
    public ObjectNode toJson() {
        TreeMap<String, JsonNode> all = new TreeMap<>();
        extra.fields().forEachRemaining(e -> all.put(e.getKey(), e.getValue().deepCopy()));
        JsonNodeFactory f = JsonNodeFactory.instance;
        all.put("model_type", f.textNode("t5"));
        all.put("vocab_size", f.numberNode(vocabSize));
        all.put("d_model", f.numberNode(dModel));
        all.put("d_kv", f.numberNode(dKv));
        all.put("d_ff", f.numberNode(dFf));
        all.put("num_layers", f.numberNode(numLayers));
        all.put("num_decoder_layers", f.numberNode(numDecoderLayers));
        all.put("num_heads", f.numberNode(numHeads));
        all.put("relative_attention_num_buckets", f.numberNode(relativeAttentionNumBuckets));
        all.put("relative_attention_max_distance", f.numberNode(relativeAttentionMaxDistance));
        all.put("dropout_rate", f.numberNode(dropoutRate));
        all.put("layer_norm_epsilon", f.numberNode(layerNormEpsilon));
        all.put("initializer_factor", f.numberNode(initializerFactor));
        all.put("feed_forward_proj", f.textNode(feedForwardProj));
        all.put("dense_act_fn", f.textNode(denseActFn()));
        all.put("is_gated_act", f.booleanNode(isGatedAct()));
        all.put("tie_word_embeddings", f.booleanNode(tieWordEmbeddings));
        all.put("pad_token_id", f.numberNode(padTokenId));
        all.put("decoder_start_token_id", f.numberNode(decoderStartTokenId));
        all.put("is_encoder_decoder", f.booleanNode(true));
        ObjectNode out = f.objectNode();
        all.forEach(out::set);
        return out;
    }
}
