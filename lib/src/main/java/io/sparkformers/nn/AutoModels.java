package io.sparkformers.nn;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.SentencePooling;
import io.sparkformers.nn.bart.BartConfig;
import io.sparkformers.nn.bart.BartForConditionalGeneration;
import io.sparkformers.nn.bert.BertConfig;
import io.sparkformers.nn.bert.BertForMaskedLM;
import io.sparkformers.nn.bert.BertForQuestionAnswering;
import io.sparkformers.nn.bert.BertForSequenceClassification;
import io.sparkformers.nn.bert.BertForTokenClassification;
import io.sparkformers.nn.bert.BertModel;
import io.sparkformers.nn.bert.RobertaForMaskedLM;
import io.sparkformers.nn.bert.RobertaForSequenceClassification;
import io.sparkformers.nn.distilbert.DistilBertConfig;
import io.sparkformers.nn.distilbert.DistilBertForMaskedLM;
import io.sparkformers.nn.distilbert.DistilBertForQuestionAnswering;
import io.sparkformers.nn.distilbert.DistilBertForSequenceClassification;
import io.sparkformers.nn.distilbert.DistilBertForTokenClassification;
import io.sparkformers.nn.distilbert.DistilBertModel;
import io.sparkformers.nn.gpt2.GPT2Config;
import io.sparkformers.nn.gpt2.GPT2LMHeadModel;
import io.sparkformers.nn.gpt2.GPT2Model;
import io.sparkformers.nn.llama.LlamaConfig;
import io.sparkformers.nn.llama.LlamaForCausalLM;
import io.sparkformers.nn.marian.MarianConfig;
import io.sparkformers.nn.marian.MarianMTModel;
import io.sparkformers.nn.t5.T5Config;
import io.sparkformers.nn.t5.T5ForConditionalGeneration;
import java.util.List;

/**
 * HF's {@code AutoModel…from_config}: config.json ({@code model_type}) + task → the architecture's block, not yet
 * initialised. Its {@link PretrainedModel#baseModelPrefix()} is what checkpoints of the base model are stored
 * under. Unsupported combinations fail with the supported list.
 */
public final class AutoModels {

    /** {@code model_type} values with at least one task. */
    public static final List<String> SUPPORTED_MODEL_TYPES = List.of(
            "bert",
            "roberta",
            "xlm-roberta",
            "distilbert",
            "gpt2",
            "llama",
            "mistral",
            "qwen2",
            "bart",
            "t5",
            "marian");

    private AutoModels() {}

    /** The block for {@code task} described by an HF config.json object. */
    public static PretrainedModel fromConfig(JsonNode config, Task task) {
        JsonNode type = config.get("model_type");
        String modelType = type == null ? null : type.asText();
        if (modelType == null || !SUPPORTED_MODEL_TYPES.contains(modelType)) {
            throw new IllegalArgumentException(
                    "unsupported model_type '" + modelType + "' (supported: " + SUPPORTED_MODEL_TYPES + ")");
        }
        if (LlamaConfig.MODEL_TYPES.contains(modelType)) return forLlama(LlamaConfig.fromJson(config), task);
        return switch (modelType) {
            case "distilbert" -> forDistilBert(DistilBertConfig.fromJson(config), task);
            case "gpt2" -> forGpt2(GPT2Config.fromJson(config), task);
            case "bart" -> forBart(BartConfig.fromJson(config), task);
            case "t5" -> forT5(T5Config.fromJson(config), task);
            case "marian" -> forMarian(MarianConfig.fromJson(config), task);
            default -> forBert(BertConfig.fromJson(config), task);
        };
    }

    /** A sentence-embedding model: the config's base model, then the given pooling. */
    public static PretrainedModel sentenceEmbedding(JsonNode config, SentencePooling pooling) {
        PretrainedModel base = fromConfig(config, Task.BASE);
        PretrainedModel encoder = base instanceof BertModel ? new BertModel(BertConfig.fromJson(config), false) : base;
        long hidden = config.has("hidden_size")
                ? config.get("hidden_size").asLong()
                : config.path("dim").asLong();
        return new SentenceEmbedding(encoder, hidden, pooling);
    }

    /** BERT, RoBERTa, XLM-RoBERTa; RoBERTa's sequence-classification and masked-LM heads have their own layouts. */
    public static PretrainedModel forBert(BertConfig c, Task task) {
        boolean bert = "bert".equals(c.modelType());
        return switch (task) {
            case BASE -> new BertModel(c, true);
            case SEQUENCE_CLASSIFICATION ->
                bert ? new BertForSequenceClassification(c) : new RobertaForSequenceClassification(c);
            case TOKEN_CLASSIFICATION -> new BertForTokenClassification(c);
            case QUESTION_ANSWERING -> new BertForQuestionAnswering(c);
            case MASKED_LM -> bert ? new BertForMaskedLM(c) : new RobertaForMaskedLM(c);
            case SENTENCE_EMBEDDING ->
                new SentenceEmbedding(new BertModel(c, false), c.hiddenSize(), SentencePooling.DEFAULT);
            case CAUSAL_LM ->
                throw new IllegalArgumentException(
                        "task CAUSAL_LM is not supported for " + c.modelType() + ": it is an encoder, not a decoder");
            case SEQ2SEQ_LM ->
                throw new IllegalArgumentException("task SEQ2SEQ_LM is not supported for " + c.modelType()
                        + ": it is an encoder, not an encoder-decoder");
        };
    }

    /** Llama, Mistral, Qwen2: decoders, causal language modelling only. */
    public static PretrainedModel forLlama(LlamaConfig c, Task task) {
        if (task != Task.CAUSAL_LM) {
            throw new IllegalArgumentException(
                    "task " + task + " is not supported for " + c.modelType() + " (supported: [CAUSAL_LM])");
        }
        return new LlamaForCausalLM(c);
    }

    /** DistilBERT: base, sequence and token classification, question answering, masked LM, sentence embeddings. */
    public static PretrainedModel forDistilBert(DistilBertConfig c, Task task) {
        return switch (task) {
            case BASE -> new DistilBertModel(c);
            case SEQUENCE_CLASSIFICATION -> new DistilBertForSequenceClassification(c);
            case TOKEN_CLASSIFICATION -> new DistilBertForTokenClassification(c);
            case QUESTION_ANSWERING -> new DistilBertForQuestionAnswering(c);
            case MASKED_LM -> new DistilBertForMaskedLM(c);
            case SENTENCE_EMBEDDING -> new SentenceEmbedding(new DistilBertModel(c), c.dim(), SentencePooling.DEFAULT);
            default ->
                throw new IllegalArgumentException("task " + task + " is not supported for distilbert "
                        + "(supported: [BASE, SEQUENCE_CLASSIFICATION, TOKEN_CLASSIFICATION, QUESTION_ANSWERING, "
                        + "MASKED_LM, SENTENCE_EMBEDDING])");
        };
    }

    /** BART: the encoder-decoder with its LM head, or with the classification head of the NLI checkpoints. */
    public static PretrainedModel forBart(BartConfig c, Task task) {
        return switch (task) {
            case SEQ2SEQ_LM -> new BartForConditionalGeneration(c);
            case SEQUENCE_CLASSIFICATION -> new io.sparkformers.nn.bart.BartForSequenceClassification(c);
            default ->
                throw new IllegalArgumentException("task " + task
                        + " is not supported for bart (supported: [SEQ2SEQ_LM, SEQUENCE_CLASSIFICATION])");
        };
    }

    /** Marian: the encoder-decoder with its LM head ({@code AutoModelForSeq2SeqLM}) only. */
    public static PretrainedModel forMarian(MarianConfig c, Task task) {
        if (task != Task.SEQ2SEQ_LM) {
            throw new IllegalArgumentException(
                    "task " + task + " is not supported for marian (supported: [SEQ2SEQ_LM])");
        }
        return new MarianMTModel(c);
    }

    /** T5 (v1.0 and v1.1): the encoder-decoder with its LM head ({@code AutoModelForSeq2SeqLM}) only. */
    public static PretrainedModel forT5(T5Config c, Task task) {
        if (task != Task.SEQ2SEQ_LM) {
            throw new IllegalArgumentException("task " + task + " is not supported for t5 (supported: [SEQ2SEQ_LM])");
        }
        return new T5ForConditionalGeneration(c);
    }

    /** GPT-2: the bare decoder and the causal LM (tied head). */
    public static PretrainedModel forGpt2(GPT2Config c, Task task) {
        return switch (task) {
            case BASE -> new GPT2Model(c);
            case CAUSAL_LM -> new GPT2LMHeadModel(c);
            default ->
                throw new IllegalArgumentException(
                        "task " + task + " is not supported for gpt2 (supported: [BASE, CAUSAL_LM])");
        };
    }
}
