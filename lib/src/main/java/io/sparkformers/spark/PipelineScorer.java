package io.sparkformers.spark;

import ai.djl.ndarray.NDManager;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import io.sparkformers.pipeline.Pipeline;
import io.sparkformers.pipeline.PipelineInput;
import io.sparkformers.pipeline.PipelineOptions;
import io.sparkformers.pipeline.Pipelines;
import io.sparkformers.spark.ModelStage.RowScorer;
import io.sparkformers.spark.TokenBudgetBatcher.Batch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link RowScorer} that runs a plain-Java task pipeline on each token-budget batch: the pipeline is built once per
 * executor model and options ({@link ExecutorModels#pipeline}) around the cached model, so a partition costs no load;
 * rows the pipeline refuses ({@link Pipeline#invalidReason}) become invalid rows for {@code handleInvalid}. The batch's
 * tokens only order and size the batches; the pipeline tokenizes as it needs (offsets, windows, hypothesis pairs).
 *
 * @param <O> the pipeline's result per row
 */
abstract class PipelineScorer<O> extends RowScorer {
    private static final long serialVersionUID = 1L;

    private final int maxLength;
    private final int batchSize;

    PipelineScorer(int maxLength, int batchSize) {
        this.maxLength = maxLength;
        this.batchSize = batchSize;
    }

    /** The task's options on top of batch size and max length. */
    protected abstract PipelineOptions.Builder taskOptions(PipelineOptions.Builder b);

    /** The pipeline over a cached model. */
    protected abstract Pipeline<O> create(HfModel model, PipelineOptions options) throws IOException;

    /** One result as this stage's output value (a {@link RowScorer#columns} for several columns). */
    protected abstract Object toSpark(O result);

    @Override
    protected Object[] score(HfModel model, TextTokenizer tokenizer, Batch batch, NDManager scope) {
        PipelineOptions options = taskOptions(PipelineOptions.builder()
                        .batchSize(batchSize)
                        .maxLength(Math.min(maxLength, Pipelines.checkpointMaxLength(model.checkpoint()))))
                .build();
        Pipeline<O> pipeline;
        try {
            pipeline = ExecutorModels.pipeline(model, options, m -> {
                requireTrainedHead(m);
                return create(m, options);
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Object[] out = new Object[batch.size()];
        List<PipelineInput> inputs = new ArrayList<>(out.length);
        List<Integer> positions = new ArrayList<>(out.length);
        for (int r = 0; r < out.length; r++) {
            PipelineInput in = (PipelineInput) batch.rows().get(r).input();
            String why = pipeline.invalidReason(in, r);
            if (why != null) {
                out[r] = invalid(why.replaceFirst("^row \\d+: ", ""));
            } else {
                inputs.add(in);
                positions.add(r);
            }
        }
        if (!inputs.isEmpty()) {
            List<O> results = pipeline.predictBatch(inputs, 0);
            for (int i = 0; i < results.size(); i++) out[positions.get(i)] = toSpark(results.get(i));
        }
        return out;
    }

    /**
     * A head without trained weights would score at random (HF only warns): refused, naming the weights, as
     * {@link Pipelines#create} does.
     */
    static void requireTrainedHead(HfModel model) {
        List<String> fresh = model.loadReport().newlyInitialized();
        boolean head = model.task() != Task.BASE && model.task() != Task.SENTENCE_EMBEDDING;
        if (head && !fresh.isEmpty()) {
            throw new IllegalArgumentException(model.checkpoint().dir() + " has no trained weights for " + fresh
                    + " of the " + model.task() + " head, so its outputs would be random; use a checkpoint fine-tuned "
                    + "for this task (or fine-tune this one first)");
        }
    }
}
