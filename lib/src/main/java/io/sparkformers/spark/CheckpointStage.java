package io.sparkformers.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.function.Predicate;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Root of the Sparkformers Transformers: a stage backed by a checkpoint folder. Declares the uid (first, so Params can
 * read it) and the {@code model} Param, the schema checks every stage words alike, and persistence through
 * {@link StagePersistence} (Params metadata, then the checkpoint's files under {@code path/data}). {@code S} is the
 * concrete stage, so setters chain with its own type. A Spark ML {@code Model} (a Transformer with a parent), so a
 * training Estimator can return one.
 */
public abstract class CheckpointStage<S extends CheckpointStage<S>> extends Model<S> implements MLWritable {
    private static final long serialVersionUID = 1L;

    private final String uid;
    private final Param<String> model;

    /** @param modelDoc the {@code model} Param's doc: which checkpoints this kind of stage reads */
    protected CheckpointStage(String uid, String modelDoc) {
        this.uid = uid; // first: Params read it
        model = new Param<>(this, "model", modelDoc);
    }

    @Override
    public String uid() {
        return uid;
    }

    public Param<String> model() {
        return model;
    }

    /** The checkpoint reference, or null when unset. */
    public String getModel() {
        return isDefined(model) ? getOrDefault(model) : null;
    }

    public S setModel(String v) {
        set(model, v);
        return self();
    }

    @SuppressWarnings("unchecked")
    protected S self() {
        return (S) this;
    }

    @Override
    public S copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    /** What {@code setModel} accepts, for the error when it was not called. */
    protected String modelHint() {
        return "a checkpoint folder, a Hadoop URI or a built-in alias";
    }

    /** The top-level checkpoint files saved with the stage (default: all of them). */
    protected Predicate<String> savedFiles() {
        return name -> true;
    }

    @Override
    public MLWriter write() {
        return new StagePersistence.Writer(this, savedFiles());
    }

    /** The reference executors load the checkpoint by ({@link ModelRefs#forExecutors}); fails naming the stage. */
    protected ModelSource executorRef(SparkContext sc, ModelRefs.Needs needs) {
        try {
            return ModelRefs.forExecutors(sc, getModel(), needs);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    getClass().getSimpleName() + ": cannot load "
                            + (needs == ModelRefs.Needs.TOKENIZER ? "the tokenizer of" : "model") + " '" + getModel()
                            + "': "
                            + e.getMessage(),
                    e);
        }
    }

    /** The name of this stage's Spark jobs and metrics: {@code Class(uid, model ref)}. */
    protected String jobName() {
        return getClass().getSimpleName() + "(" + uid + ", model " + getModel() + ")";
    }

    /**
     * Runs {@code fn} over the dataset's partitions into {@code out}, in jobs described and called by
     * {@link #jobName()}. A Dataset operation (not {@code javaRDD()}), so a streaming Dataset transforms too: each
     * micro-batch's partitions run through {@code fn}, rows in input order.
     */
    protected Dataset<Row> mapPartitions(Dataset<?> dataset, StructType out, FlatMapFunction<Iterator<Row>, Row> fn) {
        SparkContext sc = dataset.sparkSession().sparkContext();
        sc.setJobDescription("Sparkformers " + jobName());
        sc.setCallSite(jobName());
        try {
            return dataset.toDF().mapPartitions((MapPartitionsFunction<Row, Row>) fn::call, Encoders.row(out));
        } finally {
            sc.clearCallSite();
        }
    }

    /** Fails unless the model Param is set. */
    protected void requireModel() {
        if (getModel() == null || getModel().isBlank()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " " + uid + ": the model Param is not set; "
                    + "call setModel with " + modelHint());
        }
    }

    /** Fails unless {@code col} exists and is a string; the message names the column, its type and the Param. */
    protected static void requireString(StructType schema, String col, String param) {
        StructField f = field(schema, col, param);
        if (!f.dataType().equals(DataTypes.StringType)) {
            throw new IllegalArgumentException("Input column '" + col + "' must be string type but got "
                    + f.dataType().catalogString() + "; set " + param + " to a string column or cast it");
        }
    }

    /** Fails unless {@code col} exists and is an array of int or bigint. */
    protected static void requireIntArray(StructType schema, String col, String param) {
        StructField f = field(schema, col, param);
        DataType t = f.dataType();
        if (!(t instanceof ArrayType a)
                || !(a.elementType().equals(DataTypes.IntegerType)
                        || a.elementType().equals(DataTypes.LongType))) {
            throw new IllegalArgumentException("Input column '" + col + "' must be array<int> (token ids) but got "
                    + t.catalogString() + "; set " + param + " to a token column (as HuggingFaceTokenizer writes it)");
        }
    }

    /** The field {@code col}; fails naming the Param and the dataset's columns when there is none. */
    protected static StructField field(StructType schema, String col, String param) {
        if (!has(schema, col)) {
            throw new IllegalArgumentException("Input column '" + col + "' does not exist (" + param
                    + "); the dataset has " + String.join(", ", schema.fieldNames()));
        }
        return schema.apply(col);
    }

    /** Fails when {@code col} is already in the schema. */
    protected static void requireAbsent(StructType schema, String col, String param) {
        if (has(schema, col)) {
            throw new IllegalArgumentException("Output column '" + col + "' already exists; set " + param
                    + " to a new name or drop the column first");
        }
    }

    static boolean has(StructType schema, String col) {
        return Arrays.asList(schema.fieldNames()).contains(col);
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + ": uid=" + uid + ", model=" + getModel();
    }
}
