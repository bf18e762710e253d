package io.sparkformers.pipeline;

import ai.djl.Device;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.nn.ComputeDtype;
import io.sparkformers.nn.HfModel;
import java.nio.file.Path;
import java.util.List;

/**
 * The options of HF {@code pipeline()} calls, for every task (each task reads its own; null means the task's HF
 * default). Names follow HF's keyword arguments.
 *
 * @param batchSize              inputs per forward pass (HF {@code batch_size}; default 8, > 0)
 * @param maxLength              tokens kept per input, special tokens included; null: the checkpoint's limit
 *                               ({@code model_max_length} of tokenizer_config.json capped by
 *                               {@code max_position_embeddings}); larger than that limit is an error
 * @param device                 where the model runs; null: CPU
 * @param topK                   text-classification: labels returned (null: HF's legacy single best label;
 *                               {@link #ALL}: every label, HF {@code top_k=None}); fill-mask: candidates per mask
 *                               (default 5); question-answering: answers (default 1)
 * @param functionToApply        text-classification: sigmoid, softmax or none (null: HF's rule from the config)
 * @param aggregationStrategy    token-classification: none, simple, first, average, max (default none)
 * @param ignoreLabels           token-classification: labels dropped from the output (default ["O"])
 * @param docStride              question-answering: tokens shared by consecutive context windows
 *                               (default min(maxSeqLen / 2, 128))
 * @param maxSeqLen              question-answering: tokens per window, question included (default min(maxLength, 384))
 * @param maxQuestionLen         question-answering: most question tokens accepted (default 64)
 * @param maxAnswerLen           question-answering: most tokens in an answer (default 15)
 * @param handleImpossibleAnswer question-answering: whether "no answer" ([CLS]) competes (default false)
 * @param candidateLabels        zero-shot-classification: the labels to choose from (required)
 * @param hypothesisTemplate     zero-shot-classification: the hypothesis, {} is the label (default
 *                               "This example is {}.")
 * @param multiLabel             zero-shot-classification: labels scored independently (default false)
 * @param targets                fill-mask: score only these words (null: the whole vocabulary)
 * @param generateKwargs         text-generation: HF's generate() keyword arguments by HF name ({@code max_new_tokens},
 *                               {@code do_sample}, {@code num_beams}, {@code num_return_sequences}, ...) and the
 *                               pipeline's {@code return_full_text} (default true); they win over the checkpoint's
 *                               generation_config.json (null: none)
 * @param outputHiddenStates     feature-extraction: also return the embeddings' and every layer's hidden states
 *                               (HF {@code output_hidden_states}; default false), see
 *                               {@link FeatureExtractionPipeline#outputs}
 * @param outputAttentions       feature-extraction: also return every layer's attention probabilities per head (HF
 *                               {@code output_attentions}; default false)
 * @param dtype                  the precision inference runs in: bf16, fp32 or auto ({@link ComputeDtype}; default
 *                               fp32)
 * @param adapter                a PEFT LoRA adapter folder loaded onto the model and merged into its weights
 *                               ({@code merge_and_unload}: inference then costs what the base does), or null; the
 *                               model argument is the base, and without one the adapter's
 *                               {@code base_model_name_or_path} is (see {@link HfModel#fromAdapter})
 */
public record PipelineOptions(
        int batchSize,
        Integer maxLength,
        Device device,
        Integer topK,
        String functionToApply,
        String aggregationStrategy,
        List<String> ignoreLabels,
        Integer docStride,
        Integer maxSeqLen,
        int maxQuestionLen,
        int maxAnswerLen,
        boolean handleImpossibleAnswer,
        List<String> candidateLabels,
        String hypothesisTemplate,
        boolean multiLabel,
        List<String> targets,
        ObjectNode generateKwargs,
        boolean outputHiddenStates,
        boolean outputAttentions,
        ComputeDtype dtype,
        Path adapter) {

    /** {@code topK} for "every label / candidate" (HF {@code top_k=None}). */
    public static final int ALL = Integer.MAX_VALUE;

    public static final String DEFAULT_HYPOTHESIS_TEMPLATE = "This example is {}.";

    /**
     * Most inputs one forward pass may take: as the Spark stages' token budget (2^20 padded tokens), 4096 rows of 256
     * tokens; a larger {@code batch_size} over a large input file would build one batch of all of it.
     */
    public static final int MAX_BATCH_SIZE = 4096;

    /*
     * Limits, decided per option: batch_size is capped (above); max_length and max_seq_len by the model's limit
     * (Pipelines.maxLength, QuestionAnsweringPipeline); top_k needs no cap (every use takes min(top_k, what exists):
     * labels, vocabulary, spans); max_question_len and max_answer_len only bound loops over a window's tokens;
     * generate_kwargs are bounded by GenerationConfig (num_beams, num_return_sequences, max_new_tokens, max_length).
     */
    public PipelineOptions {
        if (batchSize <= 0) throw new IllegalArgumentException("batch_size must be > 0, got " + batchSize);
        if (batchSize > MAX_BATCH_SIZE) {
            throw new IllegalArgumentException("batch_size must be <= " + MAX_BATCH_SIZE + " (inputs per forward pass; "
                    + "a batch's activations grow with it), got " + batchSize);
        }
        if (maxLength != null && maxLength <= 0)
            throw new IllegalArgumentException("max_length must be > 0, got " + maxLength);
        if (topK != null && topK <= 0) throw new IllegalArgumentException("top_k must be > 0, got " + topK);
        if (docStride != null && docStride < 0)
            throw new IllegalArgumentException("doc_stride must be >= 0, got " + docStride);
        if (maxSeqLen != null && maxSeqLen <= 0)
            throw new IllegalArgumentException("max_seq_len must be > 0, got " + maxSeqLen);
        if (maxQuestionLen <= 0)
            throw new IllegalArgumentException("max_question_len must be > 0, got " + maxQuestionLen);
        if (maxAnswerLen <= 0) throw new IllegalArgumentException("max_answer_len must be > 0, got " + maxAnswerLen);
        ignoreLabels = ignoreLabels == null ? List.of("O") : List.copyOf(ignoreLabels);
        candidateLabels = candidateLabels == null ? null : List.copyOf(candidateLabels);
        targets = targets == null ? null : List.copyOf(targets);
        generateKwargs = generateKwargs == null ? null : generateKwargs.deepCopy();
        if (hypothesisTemplate == null) hypothesisTemplate = DEFAULT_HYPOTHESIS_TEMPLATE;
        if (dtype == null) dtype = ComputeDtype.FP32;
    }

    /** Every option at its HF default. */
    public static PipelineOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.batchSize = batchSize;
        b.maxLength = maxLength;
        b.device = device;
        b.topK = topK;
        b.functionToApply = functionToApply;
        b.aggregationStrategy = aggregationStrategy;
        b.ignoreLabels = ignoreLabels;
        b.docStride = docStride;
        b.maxSeqLen = maxSeqLen;
        b.maxQuestionLen = maxQuestionLen;
        b.maxAnswerLen = maxAnswerLen;
        b.handleImpossibleAnswer = handleImpossibleAnswer;
        b.candidateLabels = candidateLabels;
        b.hypothesisTemplate = hypothesisTemplate;
        b.multiLabel = multiLabel;
        b.targets = targets;
        b.generateKwargs = generateKwargs;
        b.outputHiddenStates = outputHiddenStates;
        b.outputAttentions = outputAttentions;
        b.dtype = dtype;
        b.adapter = adapter;
        return b;
    }

    /** Fluent construction; unset options keep their defaults. */
    public static final class Builder {
        private int batchSize = 8;
        private Integer maxLength;
        private Device device;
        private Integer topK;
        private String functionToApply;
        private String aggregationStrategy;
        private List<String> ignoreLabels;
        private Integer docStride;
        private Integer maxSeqLen;
        private int maxQuestionLen = 64;
        private int maxAnswerLen = 15;
        private boolean handleImpossibleAnswer;
        private List<String> candidateLabels;
        private String hypothesisTemplate;
        private boolean multiLabel;
        private List<String> targets;
        private ObjectNode generateKwargs;
        private boolean outputHiddenStates;
        private boolean outputAttentions;
        private ComputeDtype dtype;
        private Path adapter;

        private Builder() {}

        public Builder batchSize(int v) {
            batchSize = v;
            return this;
        }

        public Builder maxLength(Integer v) {
            maxLength = v;
            return this;
        }

        public Builder device(Device v) {
            device = v;
            return this;
        }

        public Builder topK(Integer v) {
            topK = v;
            return this;
        }

        public Builder functionToApply(String v) {
            functionToApply = v;
            return this;
        }

        public Builder aggregationStrategy(String v) {
            aggregationStrategy = v;
            return this;
        }

        public Builder ignoreLabels(List<String> v) {
            ignoreLabels = v;
            return this;
        }

        public Builder docStride(Integer v) {
            docStride = v;
            return this;
        }

        public Builder maxSeqLen(Integer v) {
            maxSeqLen = v;
            return this;
        }

        public Builder maxQuestionLen(int v) {
            maxQuestionLen = v;
            return this;
        }

        public Builder maxAnswerLen(int v) {
            maxAnswerLen = v;
            return this;
        }

        public Builder handleImpossibleAnswer(boolean v) {
            handleImpossibleAnswer = v;
            return this;
        }

        public Builder candidateLabels(List<String> v) {
            candidateLabels = v;
            return this;
        }

        public Builder hypothesisTemplate(String v) {
            hypothesisTemplate = v;
            return this;
        }

        public Builder multiLabel(boolean v) {
            multiLabel = v;
            return this;
        }

        public Builder targets(List<String> v) {
            targets = v;
            return this;
        }

        public Builder generateKwargs(ObjectNode v) {
            generateKwargs = v;
            return this;
        }

        public Builder outputHiddenStates(boolean v) {
            outputHiddenStates = v;
            return this;
        }

        public Builder outputAttentions(boolean v) {
            outputAttentions = v;
            return this;
        }

        public Builder dtype(ComputeDtype v) {
            dtype = v;
            return this;
        }

        public Builder adapter(Path v) {
            adapter = v;
            return this;
        }

        public PipelineOptions build() {
            return new PipelineOptions(
                    batchSize,
                    maxLength,
                    device,
                    topK,
                    functionToApply,
                    aggregationStrategy,
                    ignoreLabels,
                    docStride,
                    maxSeqLen,
                    maxQuestionLen,
                    maxAnswerLen,
                    handleImpossibleAnswer,
                    candidateLabels,
                    hypothesisTemplate,
                    multiLabel,
                    targets,
                    generateKwargs,
                    outputHiddenStates,
                    outputAttentions,
                    dtype,
                    adapter);
        }
    }
}
