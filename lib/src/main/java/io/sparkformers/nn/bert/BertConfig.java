package io.sparkformers.nn.bert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.nn.Activations;
import io.sparkformers.nn.ConfigJson;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * HF {@code BertConfig} (also RoBERTa and XLM-RoBERTa, which share the encoder), as an immutable validated value.
 * JSON keys on disk are HF's; unknown keys are kept in {@code extra} so a load/save round-trips.
 *
 * @param vocabSize                 rows of the word embedding (HF {@code vocab_size}, default 30522)
 * @param hiddenSize                width of every hidden state (HF {@code hidden_size}, default 768)
 * @param numHiddenLayers           encoder layers (HF {@code num_hidden_layers}, default 12)
 * @param numAttentionHeads         heads per attention layer; divides hiddenSize (HF {@code num_attention_heads}, 12)
 * @param intermediateSize          width of the feed-forward layer (HF {@code intermediate_size}, default 3072)
 * @param hiddenAct                 feed-forward activation: gelu (exact erf), gelu_new, relu, silu (HF
 *                                  {@code hidden_act}, default gelu)
 * @param hiddenDropoutProb         dropout on embeddings and sub-layer outputs (HF {@code hidden_dropout_prob}, 0.1)
 * @param attentionProbsDropoutProb dropout on attention probabilities (HF {@code attention_probs_dropout_prob}, 0.1)
 * @param maxPositionEmbeddings     rows of the position table (HF {@code max_position_embeddings}, default 512)
 * @param typeVocabSize             token types / segments (HF {@code type_vocab_size}, default 2)
 * @param initializerRange          std of the normal init of new weights (HF {@code initializer_range}, 0.02)
 * @param layerNormEps              LayerNorm epsilon (HF {@code layer_norm_eps}, default 1e-12)
 * @param padTokenId                padding token id (HF {@code pad_token_id}, default 0; RoBERTa 1)
 * @param positionEmbeddingType     only "absolute" (HF {@code position_embedding_type})
 * @param modelType                 "bert", "roberta" or "xlm-roberta" (HF {@code model_type}); RoBERTa types number
 *                                  positions from pad_token_id + 1 and give padding pad_token_id
 * @param architectures             HF {@code architectures}, e.g. ["BertForSequenceClassification"], or null
 * @param id2label                  class id → name, ids 0..n-1 (HF {@code id2label}; default LABEL_0, LABEL_1)
 * @param problemType               null, single_label_classification, multi_label_classification or regression
 *                                  (HF {@code problem_type}); chooses the sequence classification loss
 * @param classifierDropout         dropout before classification heads, null = hiddenDropoutProb (HF
 *                                  {@code classifier_dropout})
 * @param extra                     every other key of config.json, written back unchanged
 */
public record BertConfig(
        int vocabSize,
        int hiddenSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int intermediateSize,
        String hiddenAct,
        double hiddenDropoutProb,
        double attentionProbsDropoutProb,
        int maxPositionEmbeddings,
        int typeVocabSize,
        double initializerRange,
        double layerNormEps,
        int padTokenId,
        String positionEmbeddingType,
        String modelType,
        List<String> architectures,
        Map<Integer, String> id2label,
        String problemType,
        Double classifierDropout,
        ObjectNode extra) {

    /** {@code model_type} values this encoder implements. */
    public static final List<String> MODEL_TYPES = List.of("bert", "roberta", "xlm-roberta");

    public BertConfig {
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("num_hidden_layers", numHiddenLayers);
        positive("num_attention_heads", numAttentionHeads);
        positive("intermediate_size", intermediateSize);
        positive("max_position_embeddings", maxPositionEmbeddings);
        positive("type_vocab_size", typeVocabSize);
        if (hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException("hiddenSize (" + hiddenSize
                    + ") is not a multiple of numAttentionHeads (" + numAttentionHeads + ")");
        }
        Activations.check(hiddenAct);
        probability("hidden_dropout_prob", hiddenDropoutProb);
        probability("attention_probs_dropout_prob", attentionProbsDropoutProb);
        if (classifierDropout != null) probability("classifier_dropout", classifierDropout);
        if (!(initializerRange > 0)) throw new IllegalArgumentException("initializer_range must be > 0");
        if (!(layerNormEps > 0)) throw new IllegalArgumentException("layer_norm_eps must be > 0");
        if (padTokenId < 0 || padTokenId >= vocabSize) {
            throw new IllegalArgumentException("pad_token_id " + padTokenId + " outside [0, " + vocabSize + ")");
        }
        if (!"absolute".equals(positionEmbeddingType)) {
            throw new IllegalArgumentException(
                    "position_embedding_type '" + positionEmbeddingType + "' is not supported (supported: [absolute])");
        }
        if (!MODEL_TYPES.contains(modelType)) {
            throw new IllegalArgumentException(
                    "model_type '" + modelType + "' is not a BERT-family type (supported: " + MODEL_TYPES + ")");
        }
        if (problemType != null && !ConfigJson.PROBLEM_TYPES.contains(problemType)) {
            throw new IllegalArgumentException("problem_type '" + problemType + "' is not supported (supported: "
                    + ConfigJson.PROBLEM_TYPES + ")");
        }
        architectures = architectures == null ? null : List.copyOf(architectures);
        id2label = ConfigJson.labels(id2label);
        extra = extra == null ? JsonNodeFactory.instance.objectNode() : extra.deepCopy();
    }

    /** A 2-layer, 32-wide model for tests: vocab 100, 4 heads, intermediate 37, 64 positions. */
    public static BertConfig tiny() {
        return new BertConfig(
                100,
                32,
                2,
                4,
                37,
                "gelu",
                0.1,
                0.1,
                64,
                2,
                0.02,
                1e-12,
                0,
                "absolute",
                "bert",
                null,
                ConfigJson.defaultLabels(2),
                null,
                null,
                null);
    }

    /** Parses an HF config.json object; absent keys take HF's defaults (RoBERTa's for the RoBERTa types). */
    public static BertConfig fromJson(JsonNode json) {
        ConfigJson r = ConfigJson.reading(json);
        String modelType = r.stringOr("model_type", "bert");
        boolean roberta = !"bert".equals(modelType);
        return new BertConfig(
                r.intOr("vocab_size", roberta ? 50265 : 30522),
                r.intOr("hidden_size", 768),
                r.intOr("num_hidden_layers", 12),
                r.intOr("num_attention_heads", 12),
                r.intOr("intermediate_size", 3072),
                r.stringOr("hidden_act", "gelu"),
                r.doubleOr("hidden_dropout_prob", 0.1),
                r.doubleOr("attention_probs_dropout_prob", 0.1),
                r.intOr("max_position_embeddings", 512),
                r.intOr("type_vocab_size", 2),
                r.doubleOr("initializer_range", 0.02),
                r.doubleOr("layer_norm_eps", 1e-12),
                r.intOr("pad_token_id", roberta ? 1 : 0),
                r.stringOr("position_embedding_type", "absolute"),
                modelType,
                r.stringsOrNull("architectures"),
                r.id2label(),
                r.stringOr("problem_type", null),
                r.doubleOrNull("classifier_dropout"),
                r.remaining());
    }

    /** The HF config.json object: known keys, derived label2id, and every kept unknown key, sorted. */
    public ObjectNode toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("vocab_size", vocabSize);
        m.put("hidden_size", hiddenSize);
        m.put("num_hidden_layers", numHiddenLayers);
        m.put("num_attention_heads", numAttentionHeads);
        m.put("intermediate_size", intermediateSize);
        m.put("hidden_act", hiddenAct);
        m.put("hidden_dropout_prob", hiddenDropoutProb);
        m.put("attention_probs_dropout_prob", attentionProbsDropoutProb);
        m.put("max_position_embeddings", maxPositionEmbeddings);
        m.put("type_vocab_size", typeVocabSize);
        m.put("initializer_range", initializerRange);
        m.put("layer_norm_eps", layerNormEps);
        m.put("pad_token_id", padTokenId);
        m.put("position_embedding_type", positionEmbeddingType);
        m.put("model_type", modelType);
        m.put("architectures", architectures);
        m.put("problem_type", problemType);
        m.put("classifier_dropout", classifierDropout);
        ObjectNode out = ConfigJson.write(m, extra, id2label);
        if (classifierDropout == null) out.putNull("classifier_dropout");
        return out;
    }

    @Override
    public ObjectNode extra() {
        return extra.deepCopy();
    }

    /** Number of classes of classification heads: the size of id2label (HF {@code num_labels}). */
    public int numLabels() {
        return id2label.size();
    }

    /** Width of one attention head: hiddenSize / numAttentionHeads. */
    public int headSize() {
        return hiddenSize / numAttentionHeads;
    }

    /** HF {@code base_model_prefix}: "bert" for BERT, "roberta" for RoBERTa and XLM-RoBERTa. */
    public String baseModelPrefix() {
        return "bert".equals(modelType) ? "bert" : "roberta";
    }

    /** Whether position ids follow RoBERTa's {@code create_position_ids_from_input_ids}. */
    public boolean robertaPositions() {
        return !"bert".equals(modelType);
    }

    /** Dropout rate before classifier heads: classifier_dropout, else hidden_dropout_prob (HF). */
    public double classifierDropoutOrHidden() {
        return classifierDropout != null ? classifierDropout : hiddenDropoutProb;
    }

    /** A copy with new labels (e.g. before fine-tuning a classifier head). */
    public BertConfig withId2label(Map<Integer, String> labels) {
        return copy(modelType, labels, problemType);
    }

    /** A copy with another problem_type (null: inferred from labels, as HF). */
    public BertConfig withProblemType(String type) {
        return copy(modelType, id2label, type);
    }

    /** A copy with another model_type (RoBERTa position ids, "roberta" prefix). */
    public BertConfig withModelType(String type) {
        return copy(type, id2label, problemType);
    }

    /** The one copy path of the withers: everything kept but model_type, the labels and problem_type. */
    private BertConfig copy(String type, Map<Integer, String> labels, String problem) {
        return new BertConfig(
                vocabSize,
                hiddenSize,
                numHiddenLayers,
                numAttentionHeads,
                intermediateSize,
                hiddenAct,
                hiddenDropoutProb,
                attentionProbsDropoutProb,
                maxPositionEmbeddings,
                typeVocabSize,
                initializerRange,
                layerNormEps,
                padTokenId,
                positionEmbeddingType,
                type,
                architectures,
                labels,
                problem,
                classifierDropout,
                extra);
    }

    private static void positive(String key, int v) {
        if (v <= 0) throw new IllegalArgumentException(key + " must be > 0 but was " + v);
    }

    private static void probability(String key, double p) {
        if (!(p >= 0 && p < 1)) throw new IllegalArgumentException(key + " must be in [0, 1) but was " + p);
    }
}
