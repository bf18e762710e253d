package io.sparkformers.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.hub.TokenBatch;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import java.io.IOException;
import java.util.List;

/**
 * What the pipelines that return an encoder's output per text share ({@link FeatureExtractionPipeline},
 * {@link SentenceEmbeddingPipeline}): on {@link TextPipeline}'s, the model loaded for one task, its tokenizer, and one
 * batch as tokenize → forward in a sub-manager → {@link #rows} (native memory freed before the batch returns).
 *
 * @param <O> the result per text
 */
abstract class EncoderPipeline<O> extends TextPipeline<O> {

    final TextTokenizer tokenizer;

    /**
     * @param task HF's task name
     * @param needs the task the model must be loaded for
     * @param needsDoc how the refusal says what is needed ("a base model (Task.BASE)")
     */
    EncoderPipeline(HfModel model, PipelineOptions options, String task, Task needs, String needsDoc)
            throws IOException {
        super(
                requireModel(model, model.task() == needs, task + " needs " + needsDoc + ", got " + model.task()),
                options,
                task);
        this.tokenizer = Pipelines.tokenizer(model, options);
    }

    /** The model's first output (B, …) for a batch → one result per row. */
    abstract List<O> rows(NDArray output, TokenBatch batch);

    public TextTokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    List<O> predictValid(List<PipelineInput> inputs, int firstRow) {
        TokenBatch batch =
                tokenizer.encodeBatch(inputs.stream().map(PipelineInput::text).toList(), null);
        try (NDManager scope = model.manager().newSubManager()) {
            return rows(PipelineSupport.forward(model, scope, batch).head(), batch);
        }
    }

    @Override
    public void close() {
        tokenizer.close();
        super.close();
    }
}
