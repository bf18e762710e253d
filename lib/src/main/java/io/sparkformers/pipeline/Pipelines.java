package io.sparkformers.pipeline;

import ai.djl.Device;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.SentencePooling;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import io.sparkformers.nn.lora.LoraConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * HF's {@code pipeline(task, model=…)} factory: a task name and a checkpoint folder → a ready pipeline. Task names
 * and aliases are HF's ({@code sentiment-analysis} = {@code text-classification}, {@code ner} =
 * {@code token-classification}), plus {@code sentence-embeddings} (sentence-transformers' {@code encode}).
 */
public final class Pipelines {

    /** Task names {@link #create} accepts (aliases included). */
    public static final List<String> TASKS = List.of(
            "feature-extraction",
            "sentence-embeddings",
            "text-classification",
            "sentiment-analysis",
            "token-classification",
            "ner",
            "question-answering",
            "fill-mask",
            "zero-shot-classification",
            "text-generation",
            "text2text-generation",
            "summarization",
            "translation",
            "translation_xx_to_yy");

    /** Image tasks: {@link ImageClassificationPipeline}, {@link ImageFeatureExtractionPipeline} (images, not texts). */
    public static final List<String> IMAGE_TASKS = List.of("image-classification", "image-feature-extraction");

    private Pipelines() {}

    /**
     * The pipeline for {@code task} over the checkpoint folder {@code modelDir}, with the options' LoRA adapter merged
     * in if one is given; {@code modelDir} may then be null: the adapter's {@code base_model_name_or_path} (a folder)
     * is the base.
     */
    public static Pipeline<?> create(String task, Path modelDir, PipelineOptions options) throws IOException {
        if (modelDir == null && options.adapter() == null) {
            throw new IllegalArgumentException(
                    "no model: give a checkpoint folder (or a LoRA adapter naming its base)");
        }
        HfCheckpoint checkpoint =
                HfCheckpoint.open(modelDir != null ? modelDir : Path.of(LoraConfig.baseReference(options.adapter())));
        return switch (task) {
            case "feature-extraction" -> new FeatureExtractionPipeline(load(checkpoint, Task.BASE, options), options);
            case "sentence-embeddings" ->
                new SentenceEmbeddingPipeline(load(checkpoint, Task.SENTENCE_EMBEDDING, options), options);
            case "text-classification", "sentiment-analysis" ->
                new TextClassificationPipeline(load(checkpoint, Task.SEQUENCE_CLASSIFICATION, options), options);
            case "token-classification", "ner" ->
                new TokenClassificationPipeline(load(checkpoint, Task.TOKEN_CLASSIFICATION, options), options);
            case "question-answering" ->
                new QuestionAnsweringPipeline(load(checkpoint, Task.QUESTION_ANSWERING, options), options);
            case "fill-mask" -> new FillMaskPipeline(load(checkpoint, Task.MASKED_LM, options), options);
            case "zero-shot-classification" -> ZeroShotClassificationPipeline.create(checkpoint, options);
            case "text-generation" -> new TextGenerationPipeline(load(checkpoint, Task.CAUSAL_LM, options), options);
            case "text2text-generation", "summarization", "translation" ->
                new Text2TextGenerationPipeline(task, load(checkpoint, Task.SEQ2SEQ_LM, options), options);
            case "image-classification", "image-feature-extraction" ->
                throw new IllegalArgumentException(task
                        + " takes images, not texts: use ImageClassificationPipeline / ImageFeatureExtractionPipeline "
                        + "(CLI: pipeline " + task + " --image FILE)");
            default -> {
                if (!Text2TextGenerationPipeline.TRANSLATION_PAIR.matcher(task).matches()) {
                    throw new IllegalArgumentException(
                            "unknown task '" + task + "' (supported: " + TASKS + ", " + IMAGE_TASKS + ")");
                }
                yield new Text2TextGenerationPipeline(task, load(checkpoint, Task.SEQ2SEQ_LM, options), options);
            }
        };
    }

    /**
     * Loads a checkpoint for a task on the options' device. A task head whose weights the checkpoint lacks would
     * answer with random numbers (HF only warns): refused, naming the weights.
     */
    static HfModel load(HfCheckpoint checkpoint, Task task, PipelineOptions options) throws IOException {
        Device device = options.device() == null ? Device.cpu() : options.device();
        HfModel model = options.adapter() == null
                ? HfModel.fromPretrained(checkpoint, task, device, options.dtype())
                : HfModel.fromAdapter(options.adapter(), checkpoint, task, device, options.dtype());
        boolean headTask = task != Task.BASE && task != Task.SENTENCE_EMBEDDING;
        if (headTask && !model.loadReport().newlyInitialized().isEmpty()) {
            List<String> fresh = model.loadReport().newlyInitialized();
            model.close();
            throw new IllegalArgumentException(checkpoint.dir()
                    + (options.adapter() == null ? "" : " with adapter " + options.adapter())
                    + " has no trained weights for " + fresh + " of the " + task + " head, so its outputs would be "
                    + "random; use a checkpoint fine-tuned for this task (or fine-tune this one first)");
        }
        return model;
    }

    /**
     * The longest input a checkpoint accepts, in tokens: tokenizer_config.json's {@code model_max_length} capped by
     * config.json's {@code max_position_embeddings} (RoBERTa types spend pad_token_id + 1 position rows on
     * padding, so 514 rows hold 512 tokens).
     */
    public static int checkpointMaxLength(HfCheckpoint checkpoint) {
        var config = checkpoint.config();
        int positions = config.path("max_position_embeddings").asInt(512);
        String type = checkpoint.modelType();
        if (type.equals("roberta") || type.equals("xlm-roberta"))
            positions -= config.path("pad_token_id").asInt(1) + 1;
        return Math.min(checkpoint.tokenizerConfig().modelMaxLength(), positions);
    }

    /**
     * The tokenizer a pipeline uses: {@code max_length} from the options, else the checkpoint's limit — for sentence
     * embeddings also its sentence-transformers {@code max_seq_length} (256 for all-MiniLM-L6-v2), as
     * {@code SentenceTransformer.encode} truncates.
     */
    static TextTokenizer tokenizer(HfModel model, PipelineOptions options) throws IOException {
        int limit = maxLength(model.checkpoint(), options);
        if (options.maxLength() == null && model.task() == Task.SENTENCE_EMBEDDING) {
            Integer maxSeq = model.checkpoint()
                    .pooling()
                    .map(SentencePooling::maxSeqLength)
                    .orElse(null);
            if (maxSeq != null) limit = Math.min(limit, maxSeq);
        }
        return TextTokenizer.load(model.checkpoint(), limit);
    }

    static int maxLength(HfCheckpoint checkpoint, PipelineOptions options) {
        int limit = checkpointMaxLength(checkpoint);
        if (options.maxLength() == null) return limit;
        if (options.maxLength() > limit) {
            throw new IllegalArgumentException("max_length " + options.maxLength() + " exceeds what " + checkpoint.dir()
                    + " accepts (" + limit + " tokens: model_max_length capped by max_position_embeddings)");
        }
        return options.maxLength();
    }
}
