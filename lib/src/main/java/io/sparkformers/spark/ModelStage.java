package io.sparkformers.spark;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import io.sparkformers.spark.TokenBudgetBatcher.Batch;
import java.io.IOException;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Base of the text model stages: a {@link ScoringStage} that reads text (or token columns, see
 * {@link TextInputStage}) and scores it in token-budget batches ({@link TextCodec}, {@link TokenBudgetBatcher}).
 * Subclasses give the task, the output type and a {@link RowScorer}: plain serializable values, so closures never
 * capture the stage.
 */
public abstract class ModelStage<S extends ModelStage<S>> extends ScoringStage<S> implements TextInputStage<S> {
    private static final long serialVersionUID = 1L;

    /** Default of {@code batchSize} for text (a compile-time constant: the CLI reads it without loading a stage). */
    public static final int DEFAULT_BATCH_SIZE = 256;

    /** The shared Params' wording and defaults for text. */
    static final InputKind TEXT = new InputKind(
            TextInputs.MODEL_DOC,
            "a checkpoint folder, a Hadoop URI or a built-in alias",
            "rows per batch at most (> 0)",
            DEFAULT_BATCH_SIZE,
            "where the model runs: auto (the task's Spark GPU if it holds one, else CPU), cpu, or gpu (the task must "
                    + "hold a Spark GPU resource)",
            "rows with null, empty or whitespace-only text (or unusable token columns): error (fail, naming the row), "
                    + "skip (drop the row) or keep (null output and the reason in <outputCol>_error)",
            ModelRefs.Needs.CHECKPOINT);

    private final TextInputs text;
    private final IntParam maxTokensPerBatch;
    private final IntParam sortWindow;

    protected ModelStage(String uid, String defaultOutputCol) {
        super(uid, TEXT, defaultOutputCol);
        text = new TextInputs(this);
        maxTokensPerBatch = new IntParam(
                this,
                "maxTokensPerBatch",
                "padded tokens per batch, rows × longest row " + "(> 0); a row longer than this still runs, alone",
                ParamValidators.gt(0));
        sortWindow = new IntParam(
                this,
                "sortWindow",
                "rows read and sorted by length at a time within a partition "
                        + "(> 0); larger windows pad less and hold more rows in memory",
                ParamValidators.gt(0));
        setDefault(maxTokensPerBatch, 16384);
        setDefault(sortWindow, 1024);
    }

    @Override
    public TextInputs textInputs() {
        return text;
    }

    public IntParam maxTokensPerBatch() {
        return maxTokensPerBatch;
    }

    public IntParam sortWindow() {
        return sortWindow;
    }

    public int getMaxTokensPerBatch() {
        return (Integer) getOrDefault(maxTokensPerBatch);
    }

    public int getSortWindow() {
        return (Integer) getOrDefault(sortWindow);
    }

    public S setMaxTokensPerBatch(int v) {
        set(maxTokensPerBatch, v);
        return self();
    }

    public S setSortWindow(int v) {
        set(sortWindow, v);
        return self();
    }

    /** Which head to load. */
    protected abstract Task task();

    /** The Spark type of the output column (may depend on Params). */
    protected abstract DataType outputDataType();

    /** The per-batch computation, holding only plain values of this stage's Params. */
    protected abstract RowScorer scorer();

    /**
     * By default {@code outputCol} of {@link #outputDataType()}. A stage with more columns returns them all, and its
     * scorer returns {@link RowScorer#columns} per row.
     */
    @Override
    protected StructField[] outputFields() {
        return new StructField[] {new StructField(getOutputCol(), outputDataType(), true, Metadata.empty())};
    }

    /** Whether rows are read from the token columns (the dataset has {@code inputIdsCol}) instead of text. */
    protected boolean readsTokens(StructType schema) {
        return TextInputs.hasTokens(this, schema);
    }

    /** Checks the text or token input columns this stage will read. */
    @Override
    protected void validateInput(StructType schema) {
        TextInputs.validate(this, schema, readsTokens(schema));
    }

    /** The input Params a stage with its own input columns checks (default: text or token columns). */
    protected InputReader inputReader(StructType schema) {
        return InputReader.of(this, readsTokens(schema), schema);
    }

    @Override
    protected InputCodec codec(StructType schema) {
        // sentence embeddings stop at the checkpoint's max_seq_length as sentence-transformers does, unless maxLength
        // is set explicitly (sentence-transformers' model.max_seq_length = n)
        boolean capAtMaxSeqLength = task() == Task.SENTENCE_EMBEDDING && !isSet(maxLength());
        return new TextCodec(
                inputReader(schema),
                scorer(),
                task(),
                getSortWindow(),
                getMaxTokensPerBatch(),
                getBatchSize(),
                capAtMaxSeqLength);
    }

    /** (B, T) input_ids, attention_mask, token_type_ids of a batch, in {@code scope}. */
    protected static NDList inputs(NDManager scope, Batch b) {
        Shape shape = new Shape(b.size(), b.seqLength());
        return new NDList(
                scope.create(b.inputIds(), shape),
                scope.create(b.attentionMask(), shape),
                scope.create(b.tokenTypeIds(), shape));
    }

    /** One token-budget batch → one output value per row. */
    public abstract static class RowScorer extends BatchScorer {
        private static final long serialVersionUID = 1L;

        /**
         * @param scope a sub-manager of the model's, closed after the batch: every array made here dies with it
         */
        protected abstract Object[] score(HfModel model, TextTokenizer tokenizer, Batch batch, NDManager scope);

        /**
         * The head to load for a model reference (executor side, before the lease); default the stage's
         * {@link #task()}. A stage whose head depends on the checkpoint (zero-shot: NLI or embeddings) looks here.
         */
        protected Task task(String model, Task declared) throws IOException {
            return declared;
        }
    }
}
