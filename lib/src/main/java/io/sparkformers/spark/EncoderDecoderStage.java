package io.sparkformers.spark;

import io.sparkformers.nn.Task;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.sql.types.StructType;

/**
 * Base of the encoder-decoder stages ({@link Summarizer}, {@link Translator}, {@link Text2TextGenerator}): HF's
 * text2text-generation pipeline family (BART, T5, Marian) on a text column, with {@link GenerationStage}'s generation
 * Params. A stage names its pipeline task ({@link #pipelineTask()}), which picks the output's HF name, T5's
 * {@code task_specific_params} (its prefix such as "summarize: ", beams and lengths) and the pipeline defaults
 * (max_new_tokens 256, num_beams 4) under generation_config.json; Params set on the stage win over both. Sources are
 * batched by token length within {@code sortWindow} and right-padded. A source longer than {@code maxSourceLength}
 * tokens (0, the default: the model's limit, the tokenizer's {@code model_max_length} capped by
 * {@code max_position_embeddings}) is cut to it with {@code truncation} (the default, HF's {@code truncation=True}:
 * the text's tokens shortened, the special tokens kept, as Spark NLP's seq2seq annotators cut at their maximum input
 * length); with {@code truncation} false such a row is invalid ({@code handleInvalid}), named with its length.
 * {@code sourcePrefix}, where set, goes before every source in place of the task's prefix: the stage
 * {@link Seq2SeqFineTuner} fits carries the prefix it trained with (HF {@code source_prefix}), so scoring sees the
 * sources as training did.
 */
public abstract class EncoderDecoderStage<S extends EncoderDecoderStage<S>> extends GenerationStage<S> {
    private static final long serialVersionUID = 1L;

    private final BooleanParam truncation;
    private final IntParam maxSourceLength;
    private final Param<String> sourcePrefix;

    protected EncoderDecoderStage(String uid, String defaultOutputCol) {
        super(uid, defaultOutputCol, "256");
        truncation = new BooleanParam(
                this,
                "truncation",
                "cut a source longer than maxSourceLength tokens, keeping its special tokens (HF truncation=True); "
                        + "false: such a row is invalid (handleInvalid)");
        maxSourceLength = new IntParam(
                this,
                "maxSourceLength",
                "most source tokens, special tokens included (>= 0; 0: the model's limit, its tokenizer's "
                        + "model_max_length capped by max_position_embeddings; never above that limit)",
                ParamValidators.gtEq(0));
        sourcePrefix = new Param<>(
                this,
                "sourcePrefix",
                "text put before every source in place of the task's prefix (T5's task_specific_params prefix, e.g. "
                        + "\"summarize: \"); unset: that prefix. A fitted Seq2SeqFineTuner stage carries the HF "
                        + "source_prefix it trained with");
        setDefault(truncation, true);
        setDefault(maxSourceLength, 0);
    }

    public Param<String> sourcePrefix() {
        return sourcePrefix;
    }

    /** The prefix put before every source in place of the task's, or null when unset (the task's prefix). */
    public String getSourcePrefix() {
        return isDefined(sourcePrefix) ? getOrDefault(sourcePrefix) : null;
    }

    public S setSourcePrefix(String v) {
        set(sourcePrefix, v);
        return self();
    }

    public BooleanParam truncation() {
        return truncation;
    }

    public IntParam maxSourceLength() {
        return maxSourceLength;
    }

    public boolean getTruncation() {
        return (Boolean) getOrDefault(truncation);
    }

    public int getMaxSourceLength() {
        return (Integer) getOrDefault(maxSourceLength);
    }

    public S setTruncation(boolean v) {
        set(truncation, v);
        return self();
    }

    public S setMaxSourceLength(int v) {
        set(maxSourceLength, v);
        return self();
    }

    /** The HF pipeline task the stage runs: summarization, translation[_xx_to_yy] or text2text-generation. */
    public abstract String pipelineTask();

    /** The target language whose ">>xx<<" code goes before each source where the vocabulary has it, or null. */
    protected String targetLanguage() {
        return null;
    }

    @Override
    protected Task task() {
        return Task.SEQ2SEQ_LM;
    }

    @Override
    protected InputCodec codec(StructType schema) {
        return new GenerationCodec(
                getInputCol(),
                schema.fieldIndex(getInputCol()),
                false,
                pipelineTask(),
                targetLanguage(),
                generateKwargs().toString(),
                getSeed(),
                getNumReturnSequences() > 1,
                getSortWindow(),
                getMaxTokensPerBatch(),
                getBatchSize(),
                getTruncation(),
                getMaxSourceLength(),
                getSourcePrefix());
    }
}
