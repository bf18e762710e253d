package io.sparkformers.spark;

import ai.djl.Device;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import io.sparkformers.spark.TokenBudgetBatcher.Batch;
import io.sparkformers.spark.TokenBudgetBatcher.Scored;
import org.apache.spark.SparkContext;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.TaskCompletionListener;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Base of the model stages: a Transformer that reads text (or token columns), scores it with a checkpoint held once
 * per executor JVM ({@link ExecutorModels}), in token-budget batches ({@link TokenBudgetBatcher}), and appends one
 * output column — or several, see {@link #outputFields()} — plus {@code <outputCol>_error} under
 * {@code handleInvalid=keep}. Subclasses give the task, the output type and a {@link RowScorer}: plain serializable
 * values, so closures never capture the stage.
 */
public abstract class ModelStage<S extends ModelStage<S>> extends TextStage<S> {
    private static final long serialVersionUID = 1L;

    public static final String ERROR = "error";
    public static final String SKIP = "skip";
    public static final String KEEP = "keep";

    private final Param<String> outputCol;
    private final IntParam maxTokensPerBatch;
    private final IntParam batchSize;
    private final IntParam sortWindow;
    private final Param<String> device;
    private final Param<String> handleInvalid;
    private transient InferenceMetrics lastMetrics;

    protected ModelStage(String uid, String defaultOutputCol) {
        super(uid);
        outputCol = new Param<>(this, "outputCol", "output column name");
        maxTokensPerBatch = new IntParam(this, "maxTokensPerBatch", "padded tokens per batch, rows × longest row "
                + "(> 0); a row longer than this still runs, alone", ParamValidators.gt(0));
        batchSize = new IntParam(this, "batchSize", "rows per batch at most (> 0)", ParamValidators.gt(0));
        sortWindow = new IntParam(this, "sortWindow", "rows read and sorted by length at a time within a partition "
                + "(> 0); larger windows pad less and hold more rows in memory", ParamValidators.gt(0));
        device = new Param<>(this, "device", "where the model runs: auto (the task's Spark GPU if it holds one, else "
                + "CPU), cpu, or gpu (the task must hold a Spark GPU resource)",
                ParamValidators.inArray(new String[] {Devices.AUTO, Devices.CPU, Devices.GPU}));
        handleInvalid = new Param<>(this, "handleInvalid", "rows with null, empty or whitespace-only text (or unusable "
                + "token columns): error (fail, naming the row), skip (drop the row) or keep (null output and the reason "
                + "in <outputCol>_error)", ParamValidators.inArray(new String[] {ERROR, SKIP, KEEP}));
        setDefault(outputCol, defaultOutputCol);
        setDefault(maxTokensPerBatch, 16384);
        setDefault(batchSize, 256);
        setDefault(sortWindow, 1024);
        setDefault(device, Devices.AUTO);
        setDefault(handleInvalid, ERROR);
    }

    public Param<String> outputCol() { return outputCol; }
    public IntParam maxTokensPerBatch() { return maxTokensPerBatch; }
    public IntParam batchSize() { return batchSize; }
    public IntParam sortWindow() { return sortWindow; }
    public Param<String> device() { return device; }
    public Param<String> handleInvalid() { return handleInvalid; }

    public String getOutputCol() { return getOrDefault(outputCol); }
    public int getMaxTokensPerBatch() { return (Integer) getOrDefault(maxTokensPerBatch); }
    public int getBatchSize() { return (Integer) getOrDefault(batchSize); }
    public int getSortWindow() { return (Integer) getOrDefault(sortWindow); }
    public String getDevice() { return getOrDefault(device); }
    public String getHandleInvalid() { return getOrDefault(handleInvalid); }

    public S setOutputCol(String v) { set(outputCol, v); return self(); }
    public S setMaxTokensPerBatch(int v) { set(maxTokensPerBatch, v); return self(); }
    public S setBatchSize(int v) { set(batchSize, v); return self(); }
    public S setSortWindow(int v) { set(sortWindow, v); return self(); }
    public S setDevice(String v) { set(device, v); return self(); }
    public S setHandleInvalid(String v) { set(handleInvalid, v); return self(); }

    /** The column holding the reason a row was not scored, under {@code handleInvalid=keep}. */
    public String getErrorCol() {
        return getOutputCol() + "_error";
    }

    /** The metrics of the last {@link #transform} on this driver (filled as its jobs run), or null. */
    public InferenceMetrics lastMetrics() {
        return lastMetrics;
    }

    /** Which head to load. */
    protected abstract Task task();

    /** The Spark type of the output column (may depend on Params). */
    protected abstract DataType outputDataType();

    /** The per-batch computation, holding only plain values of this stage's Params. */
    protected abstract RowScorer scorer();

    /**
     * The appended columns, in order: by default {@code outputCol} of {@link #outputDataType()}. A stage with more
     * columns returns them all, and its scorer returns {@link RowScorer#columns} per row.
     */
    protected StructField[] outputFields() {
        return new StructField[] {new StructField(getOutputCol(), outputDataType(), true, Metadata.empty())};
    }

    /** The input Params a stage with its own input columns checks (default: text or token columns). */
    protected InputReader inputReader(StructType schema) {
        return InputReader.of(this, schema);
    }

    @Override
    protected boolean savesWeights() {
        return true;
    }

    @Override
    public StructType transformSchema(StructType schema) {
        requireModel();
        validateInput(schema);
        StructType out = schema;
        for (StructField f : outputFields()) {
            requireAbsent(schema, f.name(), f.name().equals(getOutputCol()) ? "outputCol" : "the Param naming it");
            out = out.add(f);
        }
        if (getHandleInvalid().equals(KEEP)) {
            requireAbsent(schema, getErrorCol(), "outputCol (its error column under handleInvalid=keep)");
            out = out.add(getErrorCol(), DataTypes.StringType, true);
        }
        return out;
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType out = transformSchema(dataset.schema(), true);
        SparkSession spark = dataset.sparkSession();
        SparkContext sc = spark.sparkContext();
        ModelSource executorRef;
        try {
            executorRef = ModelRefs.forExecutors(sc, getModel(), ModelRefs.Needs.CHECKPOINT);
        } catch (IOException e) {
            throw new UncheckedIOException(getClass().getSimpleName() + ": cannot load model '" + getModel() + "': "
                    + e.getMessage(), e);
        }
        String name = getClass().getSimpleName() + "(" + uid() + ", model " + getModel() + ")";
        InferenceMetrics metrics = InferenceMetrics.register(sc, name);
        lastMetrics = metrics;
        // sentence embeddings stop at the checkpoint's max_seq_length as sentence-transformers does, unless maxLength
        // is set explicitly (sentence-transformers' model.max_seq_length = n)
        boolean capAtMaxSeqLength = task() == Task.SENTENCE_EMBEDDING && !isSet(maxLength());
        PartitionScorer fn = new PartitionScorer(name, executorRef, task(), getDevice(), getSortWindow(),
                getMaxTokensPerBatch(), getBatchSize(), getHandleInvalid(), getErrorCol(),
                inputReader(dataset.schema()), scorer(), outputFields().length, metrics, capAtMaxSeqLength);
        sc.setJobDescription("Sparkformers " + name);
        sc.setCallSite(name);
        try {
            JavaRDD<Row> rows = dataset.toDF().javaRDD().mapPartitions(fn);
            return spark.createDataFrame(rows, out);
        } finally {
            sc.clearCallSite();
        }
    }

    /** (B, T) input_ids, attention_mask, token_type_ids of a batch, in {@code scope}. */
    protected static NDList inputs(NDManager scope, Batch b) {
        Shape shape = new Shape(b.size(), b.seqLength());
        return new NDList(scope.create(b.inputIds(), shape), scope.create(b.attentionMask(), shape),
                scope.create(b.tokenTypeIds(), shape));
    }

    /** One batch → one output value per row, in Spark's external types (Vector, float[], Row…). */
    public abstract static class RowScorer implements Serializable {
        private static final long serialVersionUID = 1L;

        /**
         * @param scope a sub-manager of the model's, closed after the batch: every array made here dies with it
         */
        protected abstract Object[] score(HfModel model, TextTokenizer tokenizer, Batch batch, NDManager scope);

        /** A result that marks the row invalid after all (e.g. fill-mask on a text without a mask token). */
        protected static Object invalid(String reason) {
            return new Invalid(reason);
        }

        /** One row's values of a stage with several output columns, in {@link #outputFields()} order. */
        protected static Object columns(Object... values) {
            return new Columns(values);
        }

        /**
         * The head to load for a model reference (executor side, before the lease); default the stage's
         * {@link #task()}. A stage whose head depends on the checkpoint (zero-shot: NLI or embeddings) looks here.
         */
        protected Task task(String model, Task declared) throws IOException {
            return declared;
        }
    }

    /** See {@link RowScorer#invalid}. */
    record Invalid(String reason) implements Serializable {}

    /** See {@link RowScorer#columns}. */
    record Columns(Object[] values) implements Serializable {}

    /** The per-partition function: lease the model, batch, score, emit rows in order, count. */
    static final class PartitionScorer implements FlatMapFunction<Iterator<Row>, Row> {
        private static final long serialVersionUID = 1L;

        private final String stage;
        private final ModelSource source;
        private final Task task;
        private final String device;
        private final int window;
        private final int maxTokens;
        private final int batchSize;
        private final String handleInvalid;
        private final String errorCol;
        private final InputReader reader;
        private final RowScorer scorer;
        private final int outputs;
        private final InferenceMetrics metrics;
        private final boolean capAtMaxSeqLength;

        PartitionScorer(String stage, ModelSource source, Task task, String device, int window, int maxTokens, int batchSize,
                        String handleInvalid, String errorCol, InputReader reader, RowScorer scorer, int outputs,
                        InferenceMetrics metrics, boolean capAtMaxSeqLength) {
            this.capAtMaxSeqLength = capAtMaxSeqLength;
            this.stage = stage;
            this.source = source;
            this.task = task;
            this.device = device;
            this.window = window;
            this.maxTokens = maxTokens;
            this.batchSize = batchSize;
            this.handleInvalid = handleInvalid;
            this.errorCol = errorCol;
            this.reader = reader;
            this.scorer = scorer;
            this.outputs = outputs;
            this.metrics = metrics;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) throws Exception {
            if (!rows.hasNext()) return List.<Row>of().iterator();
            TaskContext tc = TaskContext.get();
            int partition = tc == null ? -1 : tc.partitionId();
            Device dev = Devices.forTask(tc, device);
            String model = source.use();
            TextTokenizer tokenizer = ExecutorModels.tokenizer(model, reader.maxLength, capAtMaxSeqLength);
            ExecutorModels.Lease lease = ExecutorModels.model(model, scorer.task(model, task), dev);
            TokenBudgetBatcher batcher = new TokenBudgetBatcher(window, maxTokens, batchSize, true, tokenizer.padTokenId());
            Runnable finish = new Runnable() {
                private boolean done;

                @Override
                public void run() {
                    if (done) return;
                    done = true;
                    lease.close();
                    metrics.add(batcher.stats(), partition);
                }
            };
            if (tc != null) tc.addTaskCompletionListener((TaskCompletionListener) ctx -> finish.run());
            HfModel m = lease.model();
            Iterator<Scored<Row>> scored = batcher.run(rows, r -> reader.read(r, tokenizer), batch -> {
                try (NDManager scope = m.manager().newSubManager()) {
                    return scorer.score(m, tokenizer, batch, scope);
                }
            });
            return new Iterator<>() {
                private Row next;

                @Override
                public boolean hasNext() {
                    while (next == null && scored.hasNext()) next = emit(scored.next(), partition);
                    if (next == null) finish.run();
                    return next != null;
                }

                @Override
                public Row next() {
                    if (!hasNext()) throw new NoSuchElementException();
                    Row r = next;
                    next = null;
                    return r;
                }
            };
        }

        /** The output row, or null to drop it (skip). */
        private Row emit(Scored<Row> s, int partition) {
            boolean keep = handleInvalid.equals(KEEP);
            String error = s.error();
            Object value = s.value();
            if (value instanceof Invalid inv) {
                error = inv.reason();
                value = null;
            }
            if (error != null) {
                if (handleInvalid.equals(SKIP)) return null;
                if (!keep) {
                    throw new IllegalArgumentException(stage + ": row " + s.position() + " of partition " + partition
                            + " (0-based, in partition order) has invalid input in column '" + reader.column() + "': "
                            + error + ". Set handleInvalid to 'skip' to drop such rows or 'keep' to flag them in '"
                            + errorCol + "'");
                }
            }
            Row in = s.row();
            int n = in.length();
            Object[] values = new Object[n + outputs + (keep ? 1 : 0)];
            for (int i = 0; i < n; i++) values[i] = in.get(i);
            if (value instanceof Columns c) {
                System.arraycopy(c.values(), 0, values, n, outputs);
            } else {
                values[n] = value;
            }
            if (keep) values[n + outputs] = error;
            return RowFactory.create(values);
        }
    }
}
