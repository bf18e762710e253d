package io.sparkformers.nn.marian;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.nn.ConfigJson;
import io.sparkformers.nn.bart.BartConfig;

/**
 * HF {@code MarianConfig}: BART's layer fields (its layers are HF's "Copied from Bart") held as a {@link BartConfig},
 * plus what Marian does differently: sinusoidal positions from 0 (not learned, not stored), no layernorm_embedding,
 * "swish" accepted as HF's name for SiLU. Separate encoder and decoder embeddings
 * ({@code share_encoder_decoder_embeddings} false) and a decoder vocabulary of another size are refused.
 *
 * @param layers     the layer, width and token fields, read with Marian's defaults (d_model 1024, 12 + 12 layers,
 *                   16 heads, ffn 4096, max_position_embeddings 1024, activation gelu, scale_embedding false,
 *                   pad_token_id 58100, decoder_start_token_id 58100)
 * @param activation the activation as config.json names it (written back unchanged)
 */
public record MarianConfig(BartConfig layers, String activation) {

    /** Parses an HF config.json object of model_type marian. */
    public static MarianConfig fromJson(JsonNode json) {
        ConfigJson r = ConfigJson.reading(json);
        String type = r.stringOr("model_type", "marian");
        if (!"marian".equals(type)) throw new IllegalArgumentException("model_type '" + type + "' is not marian");
        if (!r.boolOr("share_encoder_decoder_embeddings", true)) {
            throw new IllegalArgumentException(
                    "marian with share_encoder_decoder_embeddings false (separate source and target embeddings) is "
                            + "not supported");
        }
        int vocab = r.intOr("vocab_size", 58101);
        Integer decoderVocab = r.intOrNull("decoder_vocab_size");
        if (decoderVocab != null && decoderVocab != vocab) {
            throw new IllegalArgumentException(
                    "marian with decoder_vocab_size " + decoderVocab + " != vocab_size " + vocab + " is not supported");
        }
        String activation = r.stringOr("activation_function", "gelu");
        ObjectNode bart = r.remaining();
        bart.put("model_type", "bart");
        bart.put("vocab_size", vocab);
        bart.put("activation_function", activation.equals("swish") ? "silu" : activation);
        if (!bart.has("pad_token_id")) bart.put("pad_token_id", 58100);
        if (!bart.has("decoder_start_token_id")) bart.put("decoder_start_token_id", 58100);
        return new MarianConfig(BartConfig.fromJson(bart), activation);
    }

    /** The HF config.json object. */
    public ObjectNode toJson() {
        ObjectNode out = layers.toJson();
        out.put("model_type", "marian");
        out.put("activation_function", activation);
        out.put("decoder_vocab_size", layers.vocabSize());
        out.put("share_encoder_decoder_embeddings", true);
        return out;
    }
}
