package io.sparkformers.nn.distilbert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.nn.Activations;
import io.sparkformers.nn.ConfigJson;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * HF {@code DistilBertConfig} as an immutable validated value; JSON keys on disk are HF's, unknown keys are kept
 * in {@code extra}. DistilBERT's LayerNorms use eps 1e-12, fixed in HF's code (not a config key).
 *
 * @param vocabSize             rows of the word embedding (HF {@code vocab_size}, default 30522)
 * @param maxPositionEmbeddings rows of the position table (HF {@code max_position_embeddings}, default 512)
 * @param sinusoidalPosEmbds    fixed sinusoidal position table instead of a learned one (HF
 *                              {@code sinusoidal_pos_embds}, default false)
 * @param nLayers               transformer blocks (HF {@code n_layers}, default 6)
 * @param nHeads                attention heads; divides dim (HF {@code n_heads}, default 12)
 * @param dim                   hidden width (HF {@code dim}, default 768)
 * @param hiddenDim             feed-forward width (HF {@code hidden_dim}, default 3072)
 * @param dropout               dropout on embeddings and sub-layer outputs (HF {@code dropout}, default 0.1)
 * @param attentionDropout      dropout on attention weights (HF {@code attention_dropout}, default 0.1)
 * @param activation            feed-forward activation: gelu, gelu_new, relu, silu (HF {@code activation}, gelu)
 * @param initializerRange      std of the normal init of new weights (HF {@code initializer_range}, 0.02)
 * @param qaDropout             dropout before qa_outputs (HF {@code qa_dropout}, default 0.1)
 * @param seqClassifDropout     dropout before the classifier (HF {@code seq_classif_dropout}, default 0.2)
 * @param padTokenId            padding token id (HF {@code pad_token_id}, default 0)
 * @param architectures         HF {@code architectures}, or null
 * @param id2label              class id → name, ids 0..n-1 (HF {@code id2label}; default LABEL_0, LABEL_1)
 * @param problemType           null, single_label_classification, multi_label_classification or regression
 * @param extra                 every other key of config.json, written back unchanged
 */
public record DistilBertConfig(
        int vocabSize,
        int maxPositionEmbeddings,
        boolean sinusoidalPosEmbds,
        int nLayers,
        int nHeads,
        int dim,
        int hiddenDim,
        double dropout,
        double attentionDropout,
        String activation,
        double initializerRange,
        double qaDropout,
        double seqClassifDropout,
        int padTokenId,
        List<String> architectures,
        Map<Integer, String> id2label,
        String problemType,
        ObjectNode extra) {

    /** DistilBERT's LayerNorm epsilon, a literal in HF's modeling_distilbert. */
    public static final double LAYER_NORM_EPS = 1e-12;

    public DistilBertConfig {
        for (var e : Map.of(
                        "vocab_size",
                        vocabSize,
                        "max_position_embeddings",
                        maxPositionEmbeddings,
                        "n_layers",
                        nLayers,
                        "n_heads",
                        nHeads,
                        "dim",
                        dim,
                        "hidden_dim",
                        hiddenDim)
                .entrySet()) {
            if (e.getValue() <= 0)
                throw new IllegalArgumentException(e.getKey() + " must be > 0 but was " + e.getValue());
        }
        if (dim % nHeads != 0) {
            throw new IllegalArgumentException("dim (" + dim + ") is not a multiple of n_heads (" + nHeads + ")");
        }
        Activations.check(activation);
        for (var e : Map.of(
                        "dropout",
                        dropout,
                        "attention_dropout",
                        attentionDropout,
                        "qa_dropout",
                        qaDropout,
                        "seq_classif_dropout",
                        seqClassifDropout)
                .entrySet()) {
            if (!(e.getValue() >= 0 && e.getValue() < 1)) {
                throw new IllegalArgumentException(e.getKey() + " must be in [0, 1) but was " + e.getValue());
            }
        }
        if (!(initializerRange > 0)) throw new IllegalArgumentException("initializer_range must be > 0");
        if (padTokenId < 0 || padTokenId >= vocabSize) {
            throw new IllegalArgumentException("pad_token_id " + padTokenId + " outside [0, " + vocabSize + ")");
        }
        if (problemType != null && !ConfigJson.PROBLEM_TYPES.contains(problemType)) {
            throw new IllegalArgumentException("problem_type '" + problemType + "' is not supported (supported: "
                    + ConfigJson.PROBLEM_TYPES + ")");
        }
        architectures = architectures == null ? null : List.copyOf(architectures);
        id2label = ConfigJson.labels(id2label);
        extra = extra == null ? JsonNodeFactory.instance.objectNode() : extra.deepCopy();
    }

    /** A 2-layer, 32-wide model for tests: vocab 100, 4 heads, hidden_dim 37, 64 positions. */
    public static DistilBertConfig tiny() {
        return new DistilBertConfig(
                100,
                64,
                false,
                2,
                4,
                32,
                37,
                0.1,
                0.1,
                "gelu",
                0.02,
                0.1,
                0.2,
                0,
                null,
                ConfigJson.defaultLabels(2),
                null,
                null);
    }

    /** Parses an HF config.json object; absent keys take HF's defaults. */
    public static DistilBertConfig fromJson(JsonNode json) {
        ConfigJson r = ConfigJson.reading(json);
        String type = r.stringOr("model_type", "distilbert");
        if (!"distilbert".equals(type)) {
            throw new IllegalArgumentException("model_type '" + type + "' is not distilbert");
        }
        return new DistilBertConfig(
                r.intOr("vocab_size", 30522),
                r.intOr("max_position_embeddings", 512),
                r.boolOr("sinusoidal_pos_embds", false),
                r.intOr("n_layers", 6),
                r.intOr("n_heads", 12),
                r.intOr("dim", 768),
                r.intOr("hidden_dim", 3072),
                r.doubleOr("dropout", 0.1),
                r.doubleOr("attention_dropout", 0.1),
                r.stringOr("activation", "gelu"),
                r.doubleOr("initializer_range", 0.02),
                r.doubleOr("qa_dropout", 0.1),
                r.doubleOr("seq_classif_dropout", 0.2),
                r.intOr("pad_token_id", 0),
                r.stringsOrNull("architectures"),
                r.id2label(),
                r.stringOr("problem_type", null),
                r.remaining());
    }

    /** The HF config.json object, keys sorted, unknown keys kept. */
    public ObjectNode toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model_type", "distilbert");
        m.put("vocab_size", vocabSize);
        m.put("max_position_embeddings", maxPositionEmbeddings);
        m.put("sinusoidal_pos_embds", sinusoidalPosEmbds);
        m.put("n_layers", nLayers);
        m.put("n_heads", nHeads);
        m.put("dim", dim);
        m.put("hidden_dim", hiddenDim);
        m.put("dropout", dropout);
        m.put("attention_dropout", attentionDropout);
        m.put("activation", activation);
        m.put("initializer_range", initializerRange);
        m.put("qa_dropout", qaDropout);
        m.put("seq_classif_dropout", seqClassifDropout);
        m.put("pad_token_id", padTokenId);
        m.put("architectures", architectures);
        m.put("problem_type", problemType);
        return ConfigJson.write(m, extra, id2label);
    }

    @Override
    public ObjectNode extra() {
        return extra.deepCopy();
    }

    /** Number of classes: the size of id2label (HF {@code num_labels}). */
    public int numLabels() {
        return id2label.size();
    }

    /** A copy with new labels. */
    public DistilBertConfig withId2label(Map<Integer, String> labels) {
        return new DistilBertConfig(
                vocabSize,
                maxPositionEmbeddings,
                sinusoidalPosEmbds,
                nLayers,
                nHeads,
                dim,
                hiddenDim,
                dropout,
                attentionDropout,
                activation,
                initializerRange,
                qaDropout,
                seqClassifDropout,
                padTokenId,
                architectures,
                labels,
                problemType,
                extra);
    }
}
