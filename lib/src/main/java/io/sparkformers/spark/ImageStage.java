package io.sparkformers.spark;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.sparkformers.nn.vision.VisionModels;
import io.sparkformers.vision.ImageDecodeException;
import io.sparkformers.vision.RgbImage;
import org.apache.spark.SparkContext;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsWriter$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Base of the image model stages: reads an image column ({@link ImageInput}: Spark's {@code image} struct or encoded
 * bytes), runs a checkpoint held once per executor JVM ({@link ExecutorVisionModels}) in batches of
 * {@code batchSize} rows, and appends the subclass's output columns (plus {@code <outputCol>_error} under
 * {@code handleInvalid=keep}). Persistence as the text stages: Params metadata, then the checkpoint in HF layout
 * (config.json, model.safetensors, preprocessor_config.json) under {@code path/data}. A {@code Model} so that
 * {@link ImageClassifier} can fit one; stages built directly have no parent.
 */
public abstract class ImageStage<S extends ImageStage<S>> extends Model<S> implements MLWritable {
    private static final long serialVersionUID = 1L;

    private final String uid;
    private final Param<String> model;
    private final Param<String> inputCol;
    private final Param<String> outputCol;
    private final IntParam batchSize;
    private final Param<String> device;
    private final Param<String> handleInvalid;

    protected ImageStage(String uid, String defaultOutputCol) {
        this.uid = uid;                                   // first: Params read it
        model = new Param<>(this, "model", "the image checkpoint: a folder (config.json, model.safetensors, "
                + "preprocessor_config.json) or a Hadoop URI of one (hdfs:, s3a:, file:)");
        inputCol = new Param<>(this, "inputCol", "the image column: Spark's image struct (format \"image\") or binary "
                + "encoded bytes (format \"binaryFile\" column content)");
        outputCol = new Param<>(this, "outputCol", "output column name");
        batchSize = new IntParam(this, "batchSize", "images per forward pass (> 0)", ParamValidators.gt(0));
        device = new Param<>(this, "device", "where the model runs: auto (the task's Spark GPU if it holds one, else "
                + "CPU), cpu, or gpu", ParamValidators.inArray(new String[] {Devices.AUTO, Devices.CPU, Devices.GPU}));
        handleInvalid = new Param<>(this, "handleInvalid", "rows whose image cannot be read (null, corrupt or "
                + "truncated bytes, an unexpected channel count): error (fail, naming the row), skip (drop the row) or "
                + "keep (null outputs and the reason in <outputCol>_error)",
                ParamValidators.inArray(new String[] {ModelStage.ERROR, ModelStage.SKIP, ModelStage.KEEP}));
        setDefault(inputCol, "image");
        setDefault(outputCol, defaultOutputCol);
        setDefault(batchSize, 32);
        setDefault(device, Devices.AUTO);
        setDefault(handleInvalid, ModelStage.ERROR);
    }

    @Override
    public String uid() {
        return uid;
    }

    public Param<String> model() { return model; }
    public Param<String> inputCol() { return inputCol; }
    public Param<String> outputCol() { return outputCol; }
    public IntParam batchSize() { return batchSize; }
    public Param<String> device() { return device; }
    public Param<String> handleInvalid() { return handleInvalid; }

    public String getModel() { return getOrDefault(model); }
    public String getInputCol() { return getOrDefault(inputCol); }
    public String getOutputCol() { return getOrDefault(outputCol); }
    public int getBatchSize() { return (Integer) getOrDefault(batchSize); }
    public String getDevice() { return getOrDefault(device); }
    public String getHandleInvalid() { return getOrDefault(handleInvalid); }

    @SuppressWarnings("unchecked")
    protected S self() {
        return (S) this;
    }

    public S setModel(String v) { set(model, v); return self(); }
    public S setInputCol(String v) { set(inputCol, v); return self(); }
    public S setOutputCol(String v) { set(outputCol, v); return self(); }
    public S setBatchSize(int v) { set(batchSize, v); return self(); }
    public S setDevice(String v) { set(device, v); return self(); }
    public S setHandleInvalid(String v) { set(handleInvalid, v); return self(); }

    /** The column holding the reason a row was not scored, under {@code handleInvalid=keep}. */
    public String getErrorCol() {
        return getOutputCol() + "_error";
    }

    /** Whether the model needs its classification head. */
    protected abstract boolean classification();

    /** The columns this stage appends, after {@code outputCol}'s checks (first is outputCol). */
    protected abstract StructType outputColumns();

    /** The per-batch computation, holding only plain values of this stage's Params. */
    protected abstract ImageScorer scorer();

    @Override
    public S copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    @Override
    public StructType transformSchema(StructType schema) {
        if (getModel() == null || getModel().isBlank()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " " + uid + ": the model Param is not set; "
                    + "call setModel with an image checkpoint folder or a Hadoop URI");
        }
        ImageInput.validate(schema, getInputCol(), "inputCol");
        StructType out = schema;
        for (var f : outputColumns().fields()) {
            requireAbsent(schema, f.name());
            out = out.add(f);
        }
        if (getHandleInvalid().equals(ModelStage.KEEP)) {
            requireAbsent(schema, getErrorCol());
            out = out.add(getErrorCol(), DataTypes.StringType, true);
        }
        return out;
    }

    private static void requireAbsent(StructType schema, String col) {
        if (Arrays.asList(schema.fieldNames()).contains(col)) {
            throw new IllegalArgumentException("Output column '" + col + "' already exists; set the output column "
                    + "Params to new names or drop the column first");
        }
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType out = transformSchema(dataset.schema(), true);
        SparkSession spark = dataset.sparkSession();
        SparkContext sc = spark.sparkContext();
        ModelSource executorRef;
        try {
            executorRef = ModelRefs.forExecutors(sc, getModel(), ModelRefs.Needs.FOLDER);
        } catch (IOException e) {
            throw new UncheckedIOException(getClass().getSimpleName() + ": cannot load model '" + getModel() + "': "
                    + e.getMessage(), e);
        }
        String name = getClass().getSimpleName() + "(" + uid + ", model " + getModel() + ")";
        PartitionScorer fn = new PartitionScorer(name, executorRef, classification(), getDevice(), getBatchSize(),
                getHandleInvalid(), getErrorCol(), ImageInput.of(dataset.schema(), getInputCol(), "inputCol"),
                scorer(), outputColumns().size());
        sc.setJobDescription("Sparkformers " + name);
        JavaRDD<Row> rows = dataset.toDF().javaRDD().mapPartitions(fn);
        return spark.createDataFrame(rows, out);
    }

    /** A batch of decoded images → one array of output values per image (outputColumns order). */
    public abstract static class ImageScorer implements Serializable {
        private static final long serialVersionUID = 1L;

        /** @param scope a sub-manager closed after the batch */
        protected abstract Object[][] score(VisionModels.Loaded model, List<RgbImage> images, NDManager scope);
    }

    /** Per partition: lease the model, decode rows in batches, score, emit rows in order. */
    static final class PartitionScorer implements FlatMapFunction<Iterator<Row>, Row> {
        private static final long serialVersionUID = 1L;

        private final String stage;
        private final ModelSource source;
        private final boolean classification;
        private final String device;
        private final int batchSize;
        private final String handleInvalid;
        private final String errorCol;
        private final ImageInput input;
        private final ImageScorer scorer;
        private final int outputs;

        PartitionScorer(String stage, ModelSource source, boolean classification, String device, int batchSize,
                        String handleInvalid, String errorCol, ImageInput input, ImageScorer scorer, int outputs) {
            this.stage = stage;
            this.source = source;
            this.classification = classification;
            this.device = device;
            this.batchSize = batchSize;
            this.handleInvalid = handleInvalid;
            this.errorCol = errorCol;
            this.input = input;
            this.scorer = scorer;
            this.outputs = outputs;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) throws Exception {
            if (!rows.hasNext()) return List.<Row>of().iterator();
            TaskContext tc = TaskContext.get();
            int partition = tc == null ? -1 : tc.partitionId();
            Device dev = Devices.forTask(tc, device);
            VisionModels.Loaded m = ExecutorVisionModels.model(source.use(), classification, dev);
            return new Iterator<>() {
                private final List<Row> pending = new ArrayList<>();
                private int next;
                private long position;

                @Override
                public boolean hasNext() {
                    while (next >= pending.size() && rows.hasNext()) fill();
                    return next < pending.size();
                }

                @Override
                public Row next() {
                    if (!hasNext()) throw new NoSuchElementException();
                    return pending.get(next++);
                }

                private void fill() {
                    pending.clear();
                    next = 0;
                    List<Row> in = new ArrayList<>();
                    List<Object> decoded = new ArrayList<>();       // RgbImage or the error message
                    List<RgbImage> ok = new ArrayList<>();
                    while (in.size() < batchSize && rows.hasNext()) {
                        Row r = rows.next();
                        String where = "row " + position++ + " of partition " + partition;
                        in.add(r);
                        try {
                            RgbImage img = input.read(r, where);
                            decoded.add(img);
                            ok.add(img);
                        } catch (ImageDecodeException | IllegalArgumentException e) {
                            decoded.add(e.getMessage());
                        }
                    }
                    Object[][] values = ok.isEmpty() ? new Object[0][] : score(ok);
                    int v = 0;
                    for (int i = 0; i < in.size(); i++) {
                        Object d = decoded.get(i);
                        Row row = d instanceof RgbImage ? emit(in.get(i), values[v++], null) : emit(in.get(i), null, (String) d);
                        if (row != null) pending.add(row);
                    }
                }
            };
        }

        /** Scores decoded images; when they preprocess to different sizes, one at a time. */
        private Object[][] score(List<RgbImage> images) {
            VisionModels.Loaded m;
            try {
                m = ExecutorVisionModels.model(source.use(), classification, Devices.forTask(TaskContext.get(), device));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            try (NDManager scope = m.manager().newSubManager()) {
                return scorer.score(m, images, scope);
            } catch (IllegalArgumentException sizes) {
                Object[][] out = new Object[images.size()][];
                for (int i = 0; i < images.size(); i++) {
                    try (NDManager scope = m.manager().newSubManager()) {
                        out[i] = scorer.score(m, List.of(images.get(i)), scope)[0];
                    }
                }
                return out;
            }
        }

        /** The output row, or null to drop it (skip). */
        private Row emit(Row in, Object[] values, String error) {
            boolean keep = handleInvalid.equals(ModelStage.KEEP);
            if (error != null) {
                if (handleInvalid.equals(ModelStage.SKIP)) return null;
                if (!keep) {
                    throw new IllegalArgumentException(stage + ": invalid image in column '" + input.column() + "': "
                            + error + ". Set handleInvalid to 'skip' to drop such rows or 'keep' to flag them in '"
                            + errorCol + "'");
                }
            }
            int n = in.length();
            Object[] out = new Object[n + outputs + (keep ? 1 : 0)];
            for (int i = 0; i < n; i++) out[i] = in.get(i);
            for (int j = 0; j < outputs; j++) out[n + j] = values == null ? null : values[j];
            if (keep) out[n + outputs] = error;
            return RowFactory.create(out);
        }
    }

    @Override
    public MLWriter write() {
        return new Writer(this);
    }

    /** Params metadata, then the checkpoint folder's files under {@code path/data}. */
    static final class Writer extends MLWriter {
        private final ImageStage<?> stage;

        Writer(ImageStage<?> stage) {
            this.stage = stage;
        }

        @Override
        public void saveImpl(String path) {
            DefaultParamsWriter$.MODULE$.saveMetadata(stage, path, sparkSession());
            try {
                StagePersistence.copyCheckpoint(sc(), ModelRefs.localFolder(stage.getModel()), path, name -> true);
            } catch (IOException e) {
                throw new UncheckedIOException("saving " + stage.getClass().getSimpleName() + " " + stage.uid() + " to "
                        + path + " failed: " + e.getMessage(), e);
            }
        }
    }

    /** Reads what {@link Writer} wrote; the model Param points at {@code path/data}. */
    static final class Reader<T extends ImageStage<T>> extends MLReader<T> {
        private final Class<T> type;

        Reader(Class<T> type) {
            this.type = type;
        }

        @Override
        public T load(String path) {
            return StagePersistence.loadStage(sparkSession(), type, path, io.sparkformers.hub.HfCheckpoint.CONFIG, ImageStage::setModel);
        }
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + ": uid=" + uid + ", model=" + getModel();
    }
}
