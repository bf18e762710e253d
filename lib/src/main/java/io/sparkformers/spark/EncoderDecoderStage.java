package io.sparkformers.spark;

import io.sparkformers.nn.Task;
import org.apache.spark.sql.types.StructType;

/**
 * Base of the encoder-decoder stages ({@link Summarizer}, {@link Translator}, {@link Text2TextGenerator}): HF's
 * text2text-generation pipeline family (BART, T5, Marian) on a text column, with {@link GenerationStage}'s generation
 * Params. A stage names its pipeline task ({@link #pipelineTask()}), which picks the output's HF name, T5's
 * {@code task_specific_params} (its prefix such as "summarize: ", beams and lengths) and the pipeline defaults
 * (max_new_tokens 256, num_beams 4) under generation_config.json; Params set on the stage win over both. Sources are
 * batched by token length within {@code sortWindow} and right-padded; inputs longer than the model's positions fail
 * the row as the pipeline does.
 */
public abstract class EncoderDecoderStage<S extends EncoderDecoderStage<S>> extends GenerationStage<S> {
    private static final long serialVersionUID = 1L;

    protected EncoderDecoderStage(String uid, String defaultOutputCol) {
        super(uid, defaultOutputCol, "256");
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
                getBatchSize());
    }
}
