package io.sparkformers.nn.vision.vit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.nn.Activations;
import io.sparkformers.nn.ConfigJson;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * HF {@code ViTConfig} as an immutable validated value; JSON keys on disk are HF's, unknown keys are kept in
 * {@code extra} so a load/save round-trips.
 *
 * @param imageSize                 side of the square images the position table is for (HF {@code image_size}, 224)
 * @param patchSize                 side of a square patch; divides imageSize (HF {@code patch_size}, 16)
 * @param numChannels               input channels (HF {@code num_channels}, 3)
 * @param hiddenSize                width of every hidden state (HF {@code hidden_size}, 768)
 * @param numHiddenLayers           encoder layers (HF {@code num_hidden_layers}, 12)
 * @param numAttentionHeads         heads per layer; divides hiddenSize (HF {@code num_attention_heads}, 12)
 * @param intermediateSize          MLP width (HF {@code intermediate_size}, 3072)
 * @param hiddenAct                 MLP activation: gelu (exact erf), gelu_new, relu, silu (HF {@code hidden_act}, gelu)
 * @param hiddenDropoutProb         dropout on embeddings and sub-layer outputs (HF {@code hidden_dropout_prob}, 0.0)
 * @param attentionProbsDropoutProb dropout on attention probabilities (HF {@code attention_probs_dropout_prob}, 0.0)
 * @param initializerRange          std of the (truncated) normal init of new weights (HF {@code initializer_range}, 0.02)
 * @param layerNormEps              LayerNorm epsilon (HF {@code layer_norm_eps}, 1e-12; torchvision's ViT uses 1e-6)
 * @param qkvBias                   biases on query/key/value (HF {@code qkv_bias}, true)
 * @param id2label                  class id → name (HF {@code id2label}; default LABEL_0, LABEL_1)
 * @param extra                     every other key of config.json, written back unchanged
 */
public record ViTConfig(
        int imageSize,
        int patchSize,
        int numChannels,
        int hiddenSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int intermediateSize,
        String hiddenAct,
        double hiddenDropoutProb,
        double attentionProbsDropoutProb,
        double initializerRange,
        double layerNormEps,
        boolean qkvBias,
        Map<Integer, String> id2label,
        ObjectNode extra) {

    public ViTConfig {
        positive("image_size", imageSize);
        positive("patch_size", patchSize);
        positive("num_channels", numChannels);
        positive("hidden_size", hiddenSize);
        positive("num_hidden_layers", numHiddenLayers);
        positive("num_attention_heads", numAttentionHeads);
        positive("intermediate_size", intermediateSize);
        if (imageSize % patchSize != 0) {
            throw new IllegalArgumentException(
                    "image_size (" + imageSize + ") is not a multiple of patch_size (" + patchSize + ")");
        }
        if (hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException("hidden_size (" + hiddenSize + ") is not a multiple of "
                    + "num_attention_heads (" + numAttentionHeads + ")");
        }
        Activations.check(hiddenAct);
        probability("hidden_dropout_prob", hiddenDropoutProb);
        probability("attention_probs_dropout_prob", attentionProbsDropoutProb);
        if (!(layerNormEps > 0))
            throw new IllegalArgumentException("layer_norm_eps must be > 0 but was " + layerNormEps);
        if (!(initializerRange > 0)) {
            throw new IllegalArgumentException("initializer_range must be > 0 but was " + initializerRange);
        }
        id2label = ConfigJson.labels(id2label);
        extra = extra == null ? JsonNodeFactory.instance.objectNode() : extra.deepCopy();
    }

    /** HF {@code ViTConfig()} defaults: ViT-Base/16 at 224, two labels. */
    public static ViTConfig base() {
        return new ViTConfig(
                224, 16, 3, 768, 12, 12, 3072, "gelu", 0.0, 0.0, 0.02, 1e-12, true, ConfigJson.defaultLabels(2), null);
    }

    /** A tiny model for tests: 32×32 images, 8×8 patches, width 32, 2 layers, 2 heads. */
    public static ViTConfig tiny(int numLabels) {
        return new ViTConfig(
                32, 8, 3, 32, 2, 2, 64, "gelu", 0.0, 0.0, 0.02, 1e-12, true, ConfigJson.defaultLabels(numLabels), null);
    }

    /** Reads an HF config.json ({@code model_type} must be "vit"); unsupported values are errors. */
    public static ViTConfig fromJson(JsonNode json) {
        ConfigJson r = ConfigJson.reading(json);
        String type = r.stringOr("model_type", "vit");
        if (!"vit".equals(type)) throw new IllegalArgumentException("model_type must be 'vit' but was '" + type + "'");
        String poolerAct = r.stringOr("pooler_act", "tanh");
        if (!"tanh".equals(poolerAct)) {
            throw new IllegalArgumentException("unsupported pooler_act '" + poolerAct + "' (supported: [tanh])");
        }
        Integer poolerSize = r.intOrNull("pooler_output_size");
        int hidden = r.intOr("hidden_size", 768);
        if (poolerSize != null && poolerSize != hidden) {
            throw new IllegalArgumentException(
                    "pooler_output_size (" + poolerSize + ") other than hidden_size (" + hidden + ") is not supported");
        }
        ViTConfig c = new ViTConfig(
                r.intOr("image_size", 224),
                r.intOr("patch_size", 16),
                r.intOr("num_channels", 3),
                hidden,
                r.intOr("num_hidden_layers", 12),
                r.intOr("num_attention_heads", 12),
                r.intOr("intermediate_size", 3072),
                r.stringOr("hidden_act", "gelu"),
                r.doubleOr("hidden_dropout_prob", 0.0),
                r.doubleOr("attention_probs_dropout_prob", 0.0),
                r.doubleOr("initializer_range", 0.02),
                r.doubleOr("layer_norm_eps", 1e-12),
                r.boolOr("qkv_bias", true),
                r.id2label(),
                null);
        return new ViTConfig(
                c.imageSize,
                c.patchSize,
                c.numChannels,
                c.hiddenSize,
                c.numHiddenLayers,
                c.numAttentionHeads,
                c.intermediateSize,
                c.hiddenAct,
                c.hiddenDropoutProb,
                c.attentionProbsDropoutProb,
                c.initializerRange,
                c.layerNormEps,
                c.qkvBias,
                c.id2label,
                r.remaining());
    }

    /** config.json as {@code save_pretrained} writes it (sorted keys, model_type "vit"). */
    public ObjectNode toJson() {
        Map<String, Object> known = new LinkedHashMap<>();
        known.put("model_type", "vit");
        known.put("image_size", imageSize);
        known.put("patch_size", patchSize);
        known.put("num_channels", numChannels);
        known.put("hidden_size", hiddenSize);
        known.put("num_hidden_layers", numHiddenLayers);
        known.put("num_attention_heads", numAttentionHeads);
        known.put("intermediate_size", intermediateSize);
        known.put("hidden_act", hiddenAct);
        known.put("hidden_dropout_prob", hiddenDropoutProb);
        known.put("attention_probs_dropout_prob", attentionProbsDropoutProb);
        known.put("initializer_range", initializerRange);
        known.put("layer_norm_eps", layerNormEps);
        known.put("qkv_bias", qkvBias);
        return ConfigJson.write(known, extra, id2label);
    }

    /** Width of one attention head. */
    public int headSize() {
        return hiddenSize / numAttentionHeads;
    }

    /** Patches per image side at the configured image size. */
    public int gridSize() {
        return imageSize / patchSize;
    }

    public int numLabels() {
        return id2label.size();
    }

    /** The same model with another head: transfer learning to new labels. */
    public ViTConfig withLabels(Map<Integer, String> labels) {
        return new ViTConfig(
                imageSize,
                patchSize,
                numChannels,
                hiddenSize,
                numHiddenLayers,
                numAttentionHeads,
                intermediateSize,
                hiddenAct,
                hiddenDropoutProb,
                attentionProbsDropoutProb,
                initializerRange,
                layerNormEps,
                qkvBias,
                labels,
                extra);
    }

    private static void positive(String key, int v) {
        if (v <= 0) throw new IllegalArgumentException(key + " must be > 0 but was " + v);
    }

    private static void probability(String key, double p) {
        if (!(p >= 0 && p < 1)) throw new IllegalArgumentException(key + " must be in [0, 1) but was " + p);
    }
}
