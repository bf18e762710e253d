package io.sparkformers.pipeline;

import io.sparkformers.nn.HfModel;
import java.util.List;

/**
 * What the pipelines of one text per input share ({@link EncoderPipeline}'s, {@link TextGenerationPipeline},
 * {@link Text2TextGenerationPipeline}): the model, the task name and options, the text check, and a batch checked
 * before it runs ({@link #predictValid}). A subclass closes its tokenizer, then calls {@link #close()}.
 *
 * @param <O> the result per text
 */
abstract class TextPipeline<O> implements Pipeline<O> {

    final HfModel model;
    final PipelineOptions options;
    private final String task;

    /**
     * @param model   the model, already checked to fit the task ({@link #requireModel})
     * @param task    HF's task name
     */
    TextPipeline(HfModel model, PipelineOptions options, String task) {
        this.model = model;
        this.options = options;
        this.task = task;
    }

    /** {@code model} when it fits the task, else the refusal. */
    static HfModel requireModel(HfModel model, boolean fits, String refusal) {
        if (!fits) throw new IllegalArgumentException(refusal);
        return model;
    }

    /** A batch whose every input passed {@link #invalidReason} → one result per input. */
    abstract List<O> predictValid(List<PipelineInput> inputs, int firstRow);

    @Override
    public String task() {
        return task;
    }

    @Override
    public PipelineOptions options() {
        return options;
    }

    @Override
    public String invalidReason(PipelineInput input, int row) {
        return PipelineSupport.textProblem(input.text(), "text", row);
    }

    @Override
    public final List<O> predictBatch(List<PipelineInput> inputs, int firstRow) {
        PipelineSupport.requireValid(this, inputs, firstRow);
        return predictValid(inputs, firstRow);
    }

    @Override
    public void close() {
        model.close();
    }
}
