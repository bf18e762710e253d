package io.sparkformers.spark;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.nn.ComputeDtype;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import io.sparkformers.spark.ModelStage.RowScorer;
import io.sparkformers.spark.TokenBudgetBatcher.Scored;
import java.io.IOException;
import java.util.Iterator;
import org.apache.spark.sql.Row;

/**
 * Text as a scoring stage's input: rows become tokens ({@link InputReader}: text and pair through the checkpoint's
 * tokenizer, or token columns), grouped into token-budget batches sorted by length within a window
 * ({@link TokenBudgetBatcher}), each run by the stage's {@link RowScorer} on the executor's cached {@link HfModel}.
 */
final class TextCodec extends InputCodec {
    private static final long serialVersionUID = 1L;

    private final InputReader reader;
    private final RowScorer scorer;
    private final Task task;
    private final int window;
    private final int maxTokensPerBatch;
    private final int batchSize;
    private final boolean capAtMaxSeqLength;

    /**
     * @param task              the head to load (the scorer may choose another per checkpoint, see
     *                          {@link RowScorer#task})
     * @param capAtMaxSeqLength also truncate at the checkpoint's sentence-transformers {@code max_seq_length}
     */
    TextCodec(
            InputReader reader,
            RowScorer scorer,
            Task task,
            int window,
            int maxTokensPerBatch,
            int batchSize,
            boolean capAtMaxSeqLength) {
        TokenBudgetBatcher.checkLimits(window, maxTokensPerBatch); // on the driver, before any job
        this.reader = reader;
        this.scorer = scorer;
        this.task = task;
        this.window = window;
        this.maxTokensPerBatch = maxTokensPerBatch;
        this.batchSize = batchSize;
        this.capAtMaxSeqLength = capAtMaxSeqLength;
    }

    @Override
    String column() {
        return reader.column();
    }

    @Override
    String noun() {
        return "input";
    }

    @Override
    Partition open(String model, Device device, ComputeDtype dtype, int partition) throws IOException {
        TextTokenizer tokenizer = ExecutorModels.tokenizer(model, reader.maxLength, capAtMaxSeqLength);
        ExecutorModels.Lease<HfModel> lease =
                ExecutorModels.model(model, adapter(), scorer.task(model, task), device, dtype);
        TokenBudgetBatcher batcher =
                new TokenBudgetBatcher(window, maxTokensPerBatch, batchSize, true, tokenizer.padTokenId());
        HfModel m = lease.model();
        return new Partition(lease, batcher.stats()) {
            @Override
            Iterator<Scored<Row>> score(Iterator<Row> rows) {
                return batcher.run(rows, r -> reader.read(r, tokenizer), batch -> {
                    try (NDManager scope = m.manager().newSubManager()) {
                        return scorer.score(m, tokenizer, batch, scope);
                    }
                });
            }
        };
    }
}
