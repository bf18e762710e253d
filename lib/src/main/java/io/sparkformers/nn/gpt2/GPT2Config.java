package io.sparkformers.nn.gpt2;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.nn.Activations;
import io.sparkformers.nn.ConfigJson;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * HF {@code GPT2Config} as an immutable validated value; JSON keys on disk are HF's, unknown keys are kept in
 * {@code extra}. Values HF supports but we do not ({@code scale_attn_by_inverse_layer_idx},
 * {@code reorder_and_upcast_attn}, {@code add_cross_attention}, untied heads) are refused, not ignored.
 *
 * @param vocabSize          rows of the token embedding and width of the logits (HF {@code vocab_size}, default 50257)
 * @param nPositions         rows of the learned position table: the longest sequence (HF {@code n_positions}, 1024)
 * @param nEmbd              hidden width (HF {@code n_embd}, default 768)
 * @param nLayer             transformer blocks (HF {@code n_layer}, default 12)
 * @param nHead              attention heads; divides nEmbd (HF {@code n_head}, default 12)
 * @param nInner             feed-forward width, null for 4 × nEmbd (HF {@code n_inner}, default null)
 * @param activationFunction feed-forward activation: gelu_new, gelu, relu, silu (HF {@code activation_function},
 *                           default gelu_new)
 * @param residPdrop         dropout on sub-layer outputs (HF {@code resid_pdrop}, default 0.1)
 * @param embdPdrop          dropout on the embeddings (HF {@code embd_pdrop}, default 0.1)
 * @param attnPdrop          dropout on attention probabilities (HF {@code attn_pdrop}, default 0.1)
 * @param layerNormEpsilon   LayerNorm epsilon (HF {@code layer_norm_epsilon}, default 1e-5)
 * @param initializerRange   std of the normal init of new weights (HF {@code initializer_range}, default 0.02)
 * @param scaleAttnWeights   divide attention scores by sqrt(head size) (HF {@code scale_attn_weights}, default true)
 * @param bosTokenId         beginning-of-text token (HF {@code bos_token_id}, default 50256)
 * @param eosTokenId         end-of-text token (HF {@code eos_token_id}, default 50256)
 * @param architectures      HF {@code architectures}, or null
 * @param extra              every other key of config.json, written back unchanged
 */
public record GPT2Config(
        int vocabSize,
        int nPositions,
        int nEmbd,
        int nLayer,
        int nHead,
        Integer nInner,
        String activationFunction,
        double residPdrop,
        double embdPdrop,
        double attnPdrop,
        double layerNormEpsilon,
        double initializerRange,
        boolean scaleAttnWeights,
        int bosTokenId,
        int eosTokenId,
        List<String> architectures,
        ObjectNode extra) {

    public GPT2Config {
        for (var e : Map.of(
                        "vocab_size",
                        vocabSize,
                        "n_positions",
                        nPositions,
                        "n_embd",
                        nEmbd,
                        "n_layer",
                        nLayer,
                        "n_head",
                        nHead)
                .entrySet()) {
            if (e.getValue() <= 0)
                throw new IllegalArgumentException(e.getKey() + " must be > 0 but was " + e.getValue());
        }
        if (nEmbd % nHead != 0) {
            throw new IllegalArgumentException("n_embd (" + nEmbd + ") is not a multiple of n_head (" + nHead + ")");
        }
        if (nInner != null && nInner <= 0) throw new IllegalArgumentException("n_inner must be > 0 but was " + nInner);
        Activations.check(activationFunction);
        for (var e : Map.of("resid_pdrop", residPdrop, "embd_pdrop", embdPdrop, "attn_pdrop", attnPdrop)
                .entrySet()) {
            if (!(e.getValue() >= 0 && e.getValue() < 1)) {
                throw new IllegalArgumentException(e.getKey() + " must be in [0, 1) but was " + e.getValue());
            }
        }
        if (!(layerNormEpsilon > 0)) throw new IllegalArgumentException("layer_norm_epsilon must be > 0");
        if (!(initializerRange > 0)) throw new IllegalArgumentException("initializer_range must be > 0");
        architectures = architectures == null ? null : List.copyOf(architectures);
        extra = extra == null ? JsonNodeFactory.instance.objectNode() : extra.deepCopy();
        for (String unsupported :
                List.of("scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn", "add_cross_attention")) {
            if (extra.path(unsupported).asBoolean(false)) {
                throw new IllegalArgumentException(unsupported + "=true is not supported for gpt2");
            }
        }
        if (!extra.path("tie_word_embeddings").asBoolean(true)) {
            throw new IllegalArgumentException("tie_word_embeddings=false is not supported for gpt2 (lm_head is the "
                    + "token embedding, as in every GPT-2 checkpoint)");
        }
    }

    /** A 2-layer, 64-wide model for tests: vocab 512, 4 heads, 128 positions, token 0 as bos/eos. */
    public static GPT2Config tiny() {
        return new GPT2Config(512, 128, 64, 2, 4, null, "gelu_new", 0.1, 0.1, 0.1, 1e-5, 0.02, true, 0, 0, null, null);
    }

    /** Parses an HF config.json object; absent keys take HF's defaults. */
    public static GPT2Config fromJson(JsonNode json) {
        ConfigJson r = ConfigJson.reading(json);
        String type = r.stringOr("model_type", "gpt2");
        if (!"gpt2".equals(type)) throw new IllegalArgumentException("model_type '" + type + "' is not gpt2");
        return new GPT2Config(
                r.intOr("vocab_size", 50257),
                r.intOr("n_positions", 1024),
                r.intOr("n_embd", 768),
                r.intOr("n_layer", 12),
                r.intOr("n_head", 12),
                r.intOrNull("n_inner"),
                r.stringOr("activation_function", "gelu_new"),
                r.doubleOr("resid_pdrop", 0.1),
                r.doubleOr("embd_pdrop", 0.1),
                r.doubleOr("attn_pdrop", 0.1),
                r.doubleOr("layer_norm_epsilon", 1e-5),
                r.doubleOr("initializer_range", 0.02),
                r.boolOr("scale_attn_weights", true),
                r.intOr("bos_token_id", 50256),
                r.intOr("eos_token_id", 50256),
                r.stringsOrNull("architectures"),
                r.remaining());
    }

    /** The HF config.json object, keys sorted, unknown keys kept. */
    public ObjectNode toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model_type", "gpt2");
        m.put("vocab_size", vocabSize);
        m.put("n_positions", nPositions);
        m.put("n_embd", nEmbd);
        m.put("n_layer", nLayer);
        m.put("n_head", nHead);
        m.put("n_inner", nInner);
        m.put("activation_function", activationFunction);
        m.put("resid_pdrop", residPdrop);
        m.put("embd_pdrop", embdPdrop);
        m.put("attn_pdrop", attnPdrop);
        m.put("layer_norm_epsilon", layerNormEpsilon);
        m.put("initializer_range", initializerRange);
        m.put("scale_attn_weights", scaleAttnWeights);
        m.put("bos_token_id", bosTokenId);
        m.put("eos_token_id", eosTokenId);
        m.put("architectures", architectures);
        return ConfigJson.write(m, extra, ConfigJson.defaultLabels(2));
    }

    /** Feed-forward width: {@code n_inner}, or 4 × n_embd. */
    public int innerSize() {
        return nInner == null ? 4 * nEmbd : nInner;
    }

    /** Width of one attention head. */
    public int headSize() {
        return nEmbd / nHead;
    }
}
