package io.sparkformers.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.nn.Task;
import io.sparkformers.train.DataCollatorWithPadding.LabelKind;
import io.sparkformers.vision.ImageProcessorConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * What a task brings to the one {@link Trainer} (HF: the model class, the data collator, {@code compute_loss} and
 * {@code compute_metrics}); the loop, checkpoints, schedules, callbacks and data parallelism are the Trainer's. An
 * immutable value; each fit gets its own {@link TaskFit} from {@link #start}. New tasks (causal LM, masked LM,
 * seq2seq, QA) are new subclasses in this package, not new trainers.
 */
public abstract class TrainingTask {

    TrainingTask() {}

    /**
     * Sequence classification (single-label, multi-label, regression) or token classification of a pretrained text
     * checkpoint: {@link DataCollatorWithPadding}, the label kind's loss ({@link TrainingLoss#forLabelKind}).
     *
     * @param model     a checkpoint folder in HF layout (a built-in alias is resolved by the caller)
     * @param task      SEQUENCE_CLASSIFICATION or TOKEN_CLASSIFICATION
     * @param labelKind HF problem_type; null: SINGLE_LABEL (TOKEN for token classification)
     * @param labels    class names in id order; null: the sorted unique labels of the training data
     * @param maxLength tokens kept per example (HF {@code max_length}; capped by the tokenizer's own limit)
     */
    public static TrainingTask textClassification(
            Path model, Task task, LabelKind labelKind, List<String> labels, int maxLength) {
        return new TextClassificationTask(model, task, labelKind, labels, maxLength);
    }

    /**
     * {@link #textClassification} training a LoRA adapter (PEFT's get_peft_model) with the base frozen: only the
     * adapter, the head and {@code lora.modulesToSave()} train and cross the all-reduce. Checkpoints and the output
     * hold the merged plain model (what stages load) and the PEFT adapter in its {@code adapter/} folder.
     *
     * @param lora the adapter; null trains the model as {@link #textClassification} does
     */
    public static TrainingTask textClassification(
            Path model,
            Task task,
            LabelKind labelKind,
            List<String> labels,
            int maxLength,
            io.sparkformers.nn.lora.LoraConfig lora) {
        return new TextClassificationTask(model, task, labelKind, labels, maxLength, lora);
    }

    /**
     * Image classification from a checkpoint folder (config.json, model.safetensors, optional
     * preprocessor_config.json); a head whose id2label differs from the data's classes is replaced by a fresh one.
     *
     * @param processor the image processor; null: the checkpoint's, else the model type's default
     */
    public static TrainingTask imageClassification(Path pretrained, ImageProcessorConfig processor) {
        return new ImageClassificationTask(java.util.Objects.requireNonNull(pretrained, "pretrained"), null, processor);
    }

    /**
     * Image classification of a model trained from its initialisation (after {@code torch.manual_seed(seed)}).
     *
     * @param config    a config.json (e.g. {@code CnnConfig.toJson()}); its labels are replaced by the data's
     * @param processor the image processor; null: the model type's default
     */
    public static TrainingTask imageClassificationFromScratch(ObjectNode config, ImageProcessorConfig processor) {
        return new ImageClassificationTask(
                null, java.util.Objects.requireNonNull(config, "config").deepCopy(), processor);
    }

    /**
     * Masked-language-model training of a pretrained text checkpoint ({@code run_mlm.py}) with HF's
     * {@code DataCollatorForLanguageModeling}: {@code mlm_probability} of the non-special tokens chosen, 80% of them
     * [MASK], 10% random, 10% unchanged; the saved model is an {@code …ForMaskedLM}. Rows are {@link TextDataset}
     * texts (labels ignored).
     *
     * @param model          a checkpoint folder in HF layout (a base checkpoint gets a new MLM head)
     * @param maxSeqLength   block size with {@code groupTexts}, else tokens kept per row (capped by the model)
     * @param groupTexts     HF {@code group_texts}: concatenate all texts and cut blocks of maxSeqLength (one
     *                       process only); false: one example per row, padded per batch (HF {@code line_by_line})
     * @param mlmProbability HF {@code mlm_probability} (0.15)
     * @param wholeWordMask  HF {@code whole_word_mask}: all pieces of a word are chosen together
     */
    public static TrainingTask maskedLanguageModeling(
            Path model, int maxSeqLength, boolean groupTexts, double mlmProbability, boolean wholeWordMask) {
        return new MaskedLanguageModelingTask(model, maxSeqLength, groupTexts, mlmProbability, wholeWordMask);
    }

    /**
     * {@link #maskedLanguageModeling(Path, int, boolean, double, boolean)} training a LoRA adapter with the base frozen
     * (as {@link #causalLanguageModeling(Path, int, boolean, boolean, io.sparkformers.nn.lora.LoraConfig)}; the
     * adapter's task_type is unset: PEFT has none for masked LM).
     *
     * @param lora the adapter; null trains the model's weights
     */
    public static TrainingTask maskedLanguageModeling(
            Path model,
            int maxSeqLength,
            boolean groupTexts,
            double mlmProbability,
            boolean wholeWordMask,
            io.sparkformers.nn.lora.LoraConfig lora) {
        return new MaskedLanguageModelingTask(model, maxSeqLength, groupTexts, mlmProbability, wholeWordMask)
                .withLora(lora);
    }

    /**
     * Causal-language-model training of a decoder checkpoint ({@code run_clm.py}; GPT-2, Llama, Mistral, Qwen2):
     * labels are the input ids, shifted inside the loss ({@link TrainingLoss#causalLanguageModeling}); evaluation
     * reports eval_loss and eval_perplexity. Rows are {@link TextDataset} texts (labels ignored).
     *
     * @param model      a checkpoint folder in HF layout with a tokenizer
     * @param blockSize  block size with {@code groupTexts}, else tokens kept per row (HF {@code block_size}; capped by
     *                   the model's positions and the tokenizer's model_max_length)
     * @param groupTexts HF {@code group_texts}: concatenate all texts and cut blocks of blockSize (data parallel: per replica);
     *                   false: one example per row, right-padded per batch with padding ignored by the loss
     */
    public static TrainingTask causalLanguageModeling(Path model, int blockSize, boolean groupTexts) {
        return new CausalLanguageModelingTask(model, null, blockSize, groupTexts, false);
    }

    /**
     * {@link #causalLanguageModeling(Path, int, boolean)} or, with {@code instruction}, {@link #instructionTuning}
     * training a LoRA adapter (PEFT get_peft_model, task_type CAUSAL_LM) with the base frozen: only the adapter and
     * {@code lora.modulesToSave()} train and cross the all-reduce; saves hold the merged plain model and the PEFT
     * adapter in its {@code adapter/} folder.
     *
     * @param lora the adapter; null trains the model's weights
     */
    public static TrainingTask causalLanguageModeling(
            Path model,
            int blockSize,
            boolean groupTexts,
            boolean instruction,
            io.sparkformers.nn.lora.LoraConfig lora) {
        return new CausalLanguageModelingTask(model, null, blockSize, groupTexts, instruction).withLora(lora);
    }

    /**
     * Causal-language-model training of a decoder built from {@code config} at HF's initialisation (after
     * {@code torch.manual_seed(seed)}), with the tokenizer of {@code tokenizer}; otherwise as
     * {@link #causalLanguageModeling(Path, int, boolean)}. The saved folder is a complete checkpoint.
     *
     * @param config    a decoder config.json (model_type gpt2, llama, mistral, qwen2)
     * @param tokenizer a folder holding tokenizer.json and tokenizer_config.json
     */
    public static TrainingTask causalLanguageModelingFromScratch(
            ObjectNode config, Path tokenizer, int blockSize, boolean groupTexts) {
        return new CausalLanguageModelingTask(
                tokenizer, java.util.Objects.requireNonNull(config, "config"), blockSize, groupTexts, false);
    }

    /**
     * Instruction tuning of a decoder checkpoint (supervised fine-tuning on prompt/response pairs): rows are
     * {@link TextDataset} rows with the prompt as {@code text} and the response as {@code textPair}; each example is
     * the prompt's tokens (with the tokenizer's specials) + the response's + eos, truncated to {@code maxSeqLength};
     * the prompt's tokens are -100 in the labels, so only the response is learned.
     */
    public static TrainingTask instructionTuning(Path model, int maxSeqLength) {
        return new CausalLanguageModelingTask(model, null, maxSeqLength, false, true);
    }

    /**
     * Instruction tuning on conversations, as TRL's SFT with {@code assistant_only_loss}: rows are {@link TextDataset}
     * rows whose {@code text} is a JSON array of {@code {"role", "content"}} messages; each is rendered through the
     * checkpoint's chat template, tokenized (the template writes the special tokens) and truncated to
     * {@code maxSeqLength}; every token outside the assistant's turns is -100 in the labels (see
     * {@link ChatExamples} for how the turns are found).
     */
    public static TrainingTask chatInstructionTuning(Path model, int maxSeqLength) {
        return new CausalLanguageModelingTask(model, null, maxSeqLength, false, true, true);
    }

    /**
     * {@link #chatInstructionTuning(Path, int)} training a LoRA adapter (task_type CAUSAL_LM) with the base frozen, as
     * {@link #causalLanguageModeling(Path, int, boolean, boolean, io.sparkformers.nn.lora.LoraConfig)} does.
     *
     * @param lora the adapter; null trains the model's weights
     */
    public static TrainingTask chatInstructionTuning(
            Path model, int maxSeqLength, io.sparkformers.nn.lora.LoraConfig lora) {
        return new CausalLanguageModelingTask(model, null, maxSeqLength, false, true, true).withLora(lora);
    }

    /**
     * Extractive question answering ({@code run_qa.py}): rows are {@link TextDataset} rows with the question as
     * {@code text}, the context as {@code textPair} and the answer text as {@code label} (found at its first
     * occurrence in the context); features as HF's {@code prepare_train_features} ({@link QaFeatures}), start/end
     * cross-entropy, and SQuAD exact match / F1 of the QA pipeline's best span at evaluation.
     *
     * @param model        a checkpoint folder in HF layout (a base checkpoint gets a new {@code qa_outputs} head)
     * @param maxSeqLength tokens per window, question and specials included (HF {@code max_seq_length}, 384)
     * @param docStride    context tokens shared by consecutive windows (HF {@code doc_stride}, 128)
     * @param maxAnswerLength most tokens in a predicted answer (HF {@code max_answer_length}, 30)
     */
    public static TrainingTask questionAnswering(Path model, int maxSeqLength, int docStride, int maxAnswerLength) {
        return new QuestionAnsweringTask(model, maxSeqLength, docStride, maxAnswerLength);
    }

    /**
     * Writes a checkpoint folder holding {@code config}'s model for {@code task} at HF's initialisation after
     * {@code torch.manual_seed(seed)} and the tokenizer files of {@code tokenizerDir}: a from-scratch start that any
     * task then fine-tunes (an encoder-decoder for {@link #seq2seqLanguageModeling}, e.g.).
     */
    public static void initialCheckpoint(
            com.fasterxml.jackson.databind.node.ObjectNode config,
            io.sparkformers.nn.Task task,
            Path tokenizerDir,
            long seed,
            Path dir)
            throws java.io.IOException {
        CausalLanguageModelingTask.writeInitialCheckpoint(config, task, tokenizerDir, seed, dir);
    }

    /**
     * Sequence-to-sequence training of an encoder-decoder checkpoint (BART, T5, Marian; {@code run_summarization.py},
     * {@code run_translation.py}): rows are {@link TextDataset} rows with the source as {@code text} and the target as
     * {@code textPair}; HF's {@code DataCollatorForSeq2Seq} and {@code shift_tokens_right}; evaluation reports
     * eval_loss and, with {@code predictWithGenerate}, ROUGE-1/2/L, BLEU and gen_len of generated texts.
     *
     * @param maxSourceLength     source tokens kept (HF {@code max_source_length}, 1024)
     * @param maxTargetLength     target tokens kept (HF {@code max_target_length}, 128)
     * @param sourcePrefix        text put before every source (HF {@code source_prefix}, e.g. "summarize: "); null: none
     * @param predictWithGenerate HF {@code predict_with_generate}: generate at evaluation and score the texts
     * @param generationMaxLength new tokens generated per source (HF {@code generation_max_length})
     * @param generationNumBeams  beams (HF {@code generation_num_beams}; 1 = greedy)
     */
    public static TrainingTask seq2seqLanguageModeling(
            Path model,
            int maxSourceLength,
            int maxTargetLength,
            String sourcePrefix,
            boolean predictWithGenerate,
            int generationMaxLength,
            int generationNumBeams) {
        return new Seq2SeqLanguageModelingTask(
                model,
                maxSourceLength,
                maxTargetLength,
                sourcePrefix,
                predictWithGenerate,
                generationMaxLength,
                generationNumBeams);
    }

    /** Refuses a transfer mode this task cannot train with (checked when the Trainer is built). */
    void checkMode(TransferMode mode) {}

    /**
     * Checks every input and loads data and model for one fit, in this order: the task's own checks,
     * {@link TrainingRun#checkArguments}, the data, {@link TrainingRun#planSteps}, the model. Everything that can fail
     * on bad input fails here, before the first step.
     *
     * @param eval this rank's evaluation rows, or null
     */
    abstract TaskFit start(TrainingRun run, Trainer.Shard train, TrainingDataset eval) throws IOException;

    /** The rows of {@code data} as the dataset type this task reads, or a clear error. */
    static <D extends TrainingDataset> D require(TrainingDataset data, Class<D> type, String task) {
        if (data != null && !type.isInstance(data)) {
            throw new IllegalArgumentException(task + " trains on a " + type.getSimpleName() + ", not on "
                    + data.getClass().getSimpleName() + " (" + data.description() + ")");
        }
        return type.cast(data);
    }

    /** Refuses the feature_extraction mode for a task whose {@code reason} it is (the task's check). */
    static void refuseFeatureExtraction(TransferMode mode, String reason) {
        if (mode.kind() == TransferMode.Kind.FEATURE_EXTRACTION) {
            throw new IllegalArgumentException(reason + ": use fine_tune or partial, not feature_extraction");
        }
    }
}
