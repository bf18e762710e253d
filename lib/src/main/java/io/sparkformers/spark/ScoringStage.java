package io.sparkformers.spark;

import io.sparkformers.nn.ComputeDtype;
import java.io.Serializable;
import java.util.Arrays;
import org.apache.spark.SparkContext;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The one core of the model stages, text and image alike (as MLlib's {@code UnaryTransformer} holds the column
 * plumbing once): a Transformer that reads an input column through its kind's {@link InputCodec}, scores it in
 * batches with a checkpoint held once per executor JVM ({@link ExecutorModels}), and appends its output columns —
 * plus {@code <outputCol>_error} under {@code handleInvalid=keep}. Declares the Params every scoring stage shares
 * (outputCol, batchSize, device, dtype, handleInvalid; their wording and defaults per input kind, see {@link InputKind}),
 * the output-column checks, and the {@code transform} wiring (model shipped to executors, job description, call site,
 * {@link InferenceMetrics}). A concrete stage declares its Params, its output columns and its scorer.
 */
public abstract class ScoringStage<S extends ScoringStage<S>> extends CheckpointStage<S> {
    private static final long serialVersionUID = 1L;

    public static final String ERROR = "error";
    public static final String SKIP = "skip";
    public static final String KEEP = "keep";

    /**
     * What the shared Params say and default to for one input kind (users read the docs), and what executors need of
     * the checkpoint.
     *
     * @param modelDoc         the {@code model} Param's doc
     * @param modelHint        what {@code setModel} accepts, for the error when it was not called
     * @param batchSizeDoc     the {@code batchSize} Param's doc
     * @param batchSize        its default
     * @param deviceDoc        the {@code device} Param's doc
     * @param handleInvalidDoc the {@code handleInvalid} Param's doc: which rows are invalid
     * @param needs            what {@link ModelRefs#forExecutors} checks and ships
     */
    protected record InputKind(
            String modelDoc,
            String modelHint,
            String batchSizeDoc,
            int batchSize,
            String deviceDoc,
            String handleInvalidDoc,
            ModelRefs.Needs needs)
            implements Serializable {}

    private final InputKind kind;
    private final Param<String> outputCol;
    private final IntParam batchSize;
    private final Param<String> device;
    private final Param<String> dtype;
    private final Param<String> handleInvalid;
    private final Param<String> adapterPath;
    private transient InferenceMetrics lastMetrics;

    protected ScoringStage(String uid, InputKind kind, String defaultOutputCol) {
        super(uid, kind.modelDoc());
        this.kind = kind;
        outputCol = new Param<>(this, "outputCol", "output column name");
        batchSize = new IntParam(this, "batchSize", kind.batchSizeDoc(), ParamValidators.gt(0));
        device = new Param<>(this, "device", kind.deviceDoc(), ParamValidators.inArray(new String[] {
            Devices.AUTO, Devices.CPU, Devices.GPU
        }));
        dtype = new Param<>(
                this,
                "dtype",
                "inference precision: bf16, fp32 or auto (bf16 where the executor's CPU has AVX512-BF16 or AMX, or its "
                        + "GPU compute capability >= 8, and the model is BERT-family; else fp32). bf16 multiplies the "
                        + "encoder's projections in BF16 (embedding cosine >= 0.999 against fp32); other model "
                        + "families refuse it",
                ParamValidators.inArray(ComputeDtype.NAMES.toArray(new String[0])));
        handleInvalid = new Param<>(
                this, "handleInvalid", kind.handleInvalidDoc(), ParamValidators.inArray(new String[] {ERROR, SKIP, KEEP
                }));
        adapterPath = new Param<>(
                this,
                "adapterPath",
                "a PEFT LoRA adapter (a folder or Hadoop URI holding adapter_config.json and "
                        + "adapter_model.safetensors) that executors load onto the model and merge into its weights "
                        + "(merge_and_unload: scoring costs what the base does); the model Param is the base, whatever "
                        + "the adapter's base_model_name_or_path says. Unset: none. Text stages only; the stage saves "
                        + "the reference, not the adapter's files");
        setDefault(outputCol, defaultOutputCol);
        setDefault(batchSize, kind.batchSize());
        setDefault(device, Devices.AUTO);
        setDefault(dtype, ComputeDtype.FP32.id());
        setDefault(handleInvalid, ERROR);
    }

    public Param<String> outputCol() {
        return outputCol;
    }

    public IntParam batchSize() {
        return batchSize;
    }

    public Param<String> device() {
        return device;
    }

    public Param<String> dtype() {
        return dtype;
    }

    public Param<String> handleInvalid() {
        return handleInvalid;
    }

    public Param<String> adapterPath() {
        return adapterPath;
    }

    /** The LoRA adapter reference, or null when unset. */
    public String getAdapterPath() {
        return isDefined(adapterPath) ? getOrDefault(adapterPath) : null;
    }

    public S setAdapterPath(String v) {
        set(adapterPath, v);
        return self();
    }

    public String getOutputCol() {
        return getOrDefault(outputCol);
    }

    public int getBatchSize() {
        return (Integer) getOrDefault(batchSize);
    }

    public String getDevice() {
        return getOrDefault(device);
    }

    public String getDtype() {
        return getOrDefault(dtype);
    }

    public String getHandleInvalid() {
        return getOrDefault(handleInvalid);
    }

    public S setOutputCol(String v) {
        set(outputCol, v);
        return self();
    }

    public S setBatchSize(int v) {
        set(batchSize, v);
        return self();
    }

    public S setDevice(String v) {
        set(device, v);
        return self();
    }

    public S setDtype(String v) {
        set(dtype, v);
        return self();
    }

    public S setHandleInvalid(String v) {
        set(handleInvalid, v);
        return self();
    }

    /** The column holding the reason a row was not scored, under {@code handleInvalid=keep}. */
    public String getErrorCol() {
        return getOutputCol() + "_error";
    }

    /** The metrics of the last {@link #transform} on this driver (filled as its jobs run), or null. */
    public InferenceMetrics lastMetrics() {
        return lastMetrics;
    }

    /** Checks the input columns this stage will read; the message names the column, the type found and the Param. */
    protected abstract void validateInput(StructType schema);

    /**
     * The appended columns, in order, {@code outputCol} first. A stage with more columns has its scorer return
     * {@link BatchScorer#columns} per row.
     */
    protected abstract StructField[] outputFields();

    /** The input kind's reader and batching over a (validated) input schema, carrying this stage's scorer. */
    protected abstract InputCodec codec(StructType schema);

    @Override
    protected String modelHint() {
        return kind.modelHint();
    }

    /** Whether executors can merge a LoRA adapter into this stage's model ({@link #adapterPath}); image stages cannot. */
    protected boolean takesAdapter() {
        return true;
    }

    @Override
    public StructType transformSchema(StructType schema) {
        requireModel();
        if (getAdapterPath() != null && !takesAdapter()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " " + uid() + ": adapterPath is set, but "
                    + "LoRA adapters load onto text models only; unset adapterPath or merge the adapter into the "
                    + "checkpoint first");
        }
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
        SparkContext sc = dataset.sparkSession().sparkContext();
        ModelSource executorRef = executorRef(sc, kind.needs());
        InferenceMetrics metrics = InferenceMetrics.register(sc, jobName());
        lastMetrics = metrics;
        return mapPartitions(
                dataset,
                out,
                new PartitionScorer(
                        jobName(),
                        executorRef,
                        getDevice(),
                        ComputeDtype.parse(getDtype()),
                        getHandleInvalid(),
                        getErrorCol(),
                        codec(dataset.schema()).withAdapter(adapterRef(sc)),
                        Arrays.stream(outputFields()).map(StructField::dataType).toArray(DataType[]::new),
                        metrics,
                        TaskSlots.rowIdIndex(dataset.schema())));
    }

    /**
     * The adapter as executors load it, checked here on the driver (its adapter_config.json read), or null when
     * {@link #adapterPath} is unset.
     */
    private ModelSource adapterRef(SparkContext sc) {
        String ref = getAdapterPath();
        if (ref == null) return null;
        String problem = null;
        try {
            if (!ref.contains(":/") && !java.nio.file.Files.isDirectory(java.nio.file.Path.of(ref))) {
                problem = "is not a folder (give the folder PEFT's save_pretrained wrote, or a Hadoop URI of one)";
            } else {
                io.sparkformers.nn.lora.LoraConfig.read(ModelRefs.localFolder(ref));
                return ModelRefs.forExecutors(sc, ref, ModelRefs.Needs.FOLDER);
            }
        } catch (java.io.IOException | IllegalArgumentException e) {
            problem = "cannot be loaded: " + e.getMessage();
        }
        throw new IllegalArgumentException(
                getClass().getSimpleName() + " " + uid() + ": adapterPath '" + ref + "' " + problem);
    }

    /** See {@link BatchScorer#invalid}. */
    record Invalid(String reason) implements Serializable {}

    /** See {@link BatchScorer#columns}. */
    record Columns(Object[] values) implements Serializable {}

    /**
     * The per-batch computation of a stage (one subclass per input kind says what a batch is), holding only plain
     * values of its Params: one output value per row, in Spark's external types (Vector, float[], Row…).
     */
    public abstract static class BatchScorer implements Serializable {
        private static final long serialVersionUID = 1L;

        /** A result that marks the row invalid after all (e.g. fill-mask on a text without a mask token). */
        protected static Object invalid(String reason) {
            return new Invalid(reason);
        }

        /** One row's values of a stage with several output columns, in {@link ScoringStage#outputFields()} order. */
        protected static Object columns(Object... values) {
            return new Columns(values);
        }

        /**
         * Each row of a (rows, width) array as an ML {@code Vector} ({@code vector}) or an {@code array<float>}: the
         * two {@code outputType}s of the embedding stages.
         */
        protected static Object[] vectorsOrArrays(float[] flat, int rows, boolean vector) {
            int width = flat.length / rows;
            Object[] out = new Object[rows];
            for (int r = 0; r < rows; r++) {
                if (vector) {
                    double[] d = new double[width];
                    for (int j = 0; j < width; j++) d[j] = flat[r * width + j];
                    out[r] = Vectors.dense(d);
                } else {
                    out[r] = Arrays.copyOfRange(flat, r * width, (r + 1) * width);
                }
            }
            return out;
        }
    }
}
