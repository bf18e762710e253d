package io.sparkformers.spark;

import io.sparkformers.nn.Task;
import io.sparkformers.train.DataCollatorWithPadding.LabelKind;
import io.sparkformers.train.TrainingArguments;
import io.sparkformers.vision.ImageDecodeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * The image-classification Estimator: fine-tunes a pretrained image checkpoint on labelled images in a DataFrame and
 * returns an {@link ImageClassificationModel} whose checkpoint (HF layout, with id2label from the data's labels,
 * sorted) is in {@code outputDir}. {@code mode} picks what trains: {@code feature_extraction} (the base frozen and in
 * eval mode, a new head with as many outputs as labels), {@code fine_tune} (everything) or {@code partial} (the head
 * and the last {@code unfreezeLastBlocks} feature blocks), through the {@code Trainer}'s image-classification task
 * with HF TrainingArguments semantics. Like the text Estimators it takes trainer callbacks
 * ({@link #addTrainerCallback}) and refuses a label column with a single value before any replica starts.
 *
 * <p>Training is data-parallel like the text Estimators ({@link DistributedTraining}): {@code numWorkers} replicas in
 * one barrier stage, gradients all-reduced every step, rank 0's BatchNorm statistics broadcast before each step (DDP's
 * {@code broadcast_buffers}), rank 0 writing {@code outputDir}. Images are decoded on the executors that hold the rows,
 * before training starts, so an unreadable row fails the fit (naming the file or row) before any replica starts, or is
 * left out under {@code handleInvalid} skip/keep (keep also keeps it in the fitted model's output); nothing is
 * collected to the driver but the distinct labels. With {@code fromScratch}, {@code model} is a folder holding only a
 * {@code config.json} (and optionally {@code preprocessor_config.json}): the model is trained from its own
 * initialisation (HF's {@code config_name} without {@code model_name_or_path}).
 */
public final class ImageClassifier extends FineTuningEstimator<ImageClassifier, ImageClassificationModel>
        implements MLWritable {
    private static final long serialVersionUID = 1L;

    private final Param<String> model;
    private final Param<String> inputCol;
    private final Param<String> labelCol;
    private final Param<String> outputCol;
    private final Param<String> scoreCol;
    private final Param<String> probabilityCol;
    private final IntParam batchSize;
    private final Param<String> device;
    private final Param<String> handleInvalid;
    private final Param<String> mode;
    private final IntParam unfreezeLastBlocks;
    private final DoubleParam numTrainEpochs;
    private final LongParam maxSteps;
    private final IntParam trainBatchSize;
    private final DoubleParam learningRate;
    private final DoubleParam weightDecay;
    private final DoubleParam warmupRatio;
    private final LongParam seed;
    private final Param<String> outputDir;
    private final IntParam numWorkers;
    private final IntParam maxAttempts;
    private final BooleanParam fromScratch;
    private final IntParam checkConsistencyEverySteps;

    public ImageClassifier(String uid) {
        super(uid); // first: Params read it
        model = new Param<>(
                this,
                "model",
                "the pretrained image checkpoint folder (config.json, model.safetensors, "
                        + "preprocessor_config.json) or a Hadoop URI of one");
        inputCol = new Param<>(this, "inputCol", "the image column: Spark's image struct or binary encoded bytes");
        labelCol = new Param<>(
                this, "labelCol", "the label column, string or numeric (classes are its distinct " + "values, sorted)");
        outputCol = new Param<>(this, "outputCol", "the fitted model's predicted label column");
        scoreCol = new Param<>(this, "scoreCol", "the fitted model's probability-of-the-label column");
        probabilityCol = new Param<>(
                this, "probabilityCol", "the fitted model's Vector of class probabilities " + "(\"\" for none)");
        batchSize = new IntParam(
                this, "batchSize", "images per forward pass when the model scores (> 0)", ParamValidators.gt(0));
        device = new Param<>(
                this,
                "device",
                "where replicas train and the fitted model runs: auto (the task's Spark "
                        + "GPU if it holds one), cpu or gpu",
                ParamValidators.inArray(new String[] {Devices.AUTO, Devices.CPU, Devices.GPU}));
        handleInvalid = new Param<>(
                this,
                "handleInvalid",
                "rows whose image cannot be read or whose label is null: "
                        + "error (fail, naming the row), skip (leave them out of training) or keep (skip for training; the "
                        + "fitted model flags them in <outputCol>_error)",
                ParamValidators.inArray(new String[] {ModelStage.ERROR, ModelStage.SKIP, ModelStage.KEEP}));
        mode = new Param<>(
                this,
                "mode",
                "what trains: feature_extraction (a new head on the frozen base), fine_tune "
                        + "(every parameter) or partial (the head and the last unfreezeLastBlocks feature blocks)",
                ParamValidators.inArray(new String[] {"feature_extraction", "fine_tune", "partial"}));
        unfreezeLastBlocks = new IntParam(
                this,
                "unfreezeLastBlocks",
                "partial: feature blocks trained from the top "
                        + "(> 0 with mode partial; ResNet-18 has 9, ViT embeddings + one per layer)",
                ParamValidators.gtEq(0));
        numTrainEpochs = new DoubleParam(
                this, "numTrainEpochs", "passes over the data (> 0; HF num_train_epochs)", ParamValidators.gt(0));
        maxSteps = new LongParam(
                this,
                "maxSteps",
                "optimizer steps, overriding numTrainEpochs when > 0 (HF " + "max_steps; -1 for none)",
                ParamValidators.gtEq(-1));
        trainBatchSize = new IntParam(
                this,
                "trainBatchSize",
                "images per optimizer step (> 0; HF " + "per_device_train_batch_size)",
                ParamValidators.gt(0));
        learningRate = new DoubleParam(
                this, "learningRate", "AdamW peak learning rate, linear decay (> 0)", ParamValidators.gt(0));
        weightDecay = new DoubleParam(
                this, "weightDecay", "AdamW weight decay, not on biases (>= 0)", ParamValidators.gtEq(0));
        warmupRatio = new DoubleParam(
                this,
                "warmupRatio",
                "share of steps warming the learning rate up, in [0, 1)",
                ParamValidators.inRange(0, 1, true, false));
        seed = new LongParam(this, "seed", "seed of the new head, data order and dropout");
        outputDir = new Param<>(
                this,
                "outputDir",
                "folder for checkpoints and the fitted model, any Hadoop path (\"\": "
                        + "a new temporary folder, local masters only)");
        numWorkers = new IntParam(
                this,
                "numWorkers",
                "training tasks, one model replica each, in one barrier stage "
                        + "(1..64; the cluster needs this many free task slots)",
                ParamValidators.inRange(1, 64));
        maxAttempts = new IntParam(
                this, "maxAttempts", "barrier jobs tried before the fit fails (>= 1)", ParamValidators.gtEq(1));
        fromScratch = new BooleanParam(
                this,
                "fromScratch",
                "train from the model folder's config.json alone (its own "
                        + "initialisation, mode fine_tune) instead of from pretrained weights");
        checkConsistencyEverySteps = new IntParam(
                this,
                "checkConsistencyEverySteps",
                "steps between checks that every " + "replica holds the same weights (>= 0; 0 = never)",
                ParamValidators.gtEq(0));
        setDefault(inputCol, "image");
        setDefault(labelCol, "label");
        setDefault(outputCol, "prediction");
        setDefault(scoreCol, "score");
        setDefault(probabilityCol, "");
        setDefault(batchSize, 32);
        setDefault(device, Devices.AUTO);
        setDefault(handleInvalid, ModelStage.ERROR);
        setDefault(mode, "feature_extraction");
        setDefault(unfreezeLastBlocks, 0);
        setDefault(numTrainEpochs, 3.0);
        setDefault(maxSteps, -1L);
        setDefault(trainBatchSize, 32);
        setDefault(learningRate, 1e-3);
        setDefault(weightDecay, 0.0);
        setDefault(warmupRatio, 0.0);
        setDefault(seed, 42L);
        setDefault(outputDir, "");
        setDefault(numWorkers, 1);
        setDefault(maxAttempts, 1);
        setDefault(fromScratch, false);
        setDefault(checkConsistencyEverySteps, 100);
    }

    public ImageClassifier() {
        this(Identifiable$.MODULE$.randomUID("imgCls"));
    }

    public Param<String> model() {
        return model;
    }

    public Param<String> inputCol() {
        return inputCol;
    }

    public Param<String> labelCol() {
        return labelCol;
    }

    public Param<String> outputCol() {
        return outputCol;
    }

    public Param<String> scoreCol() {
        return scoreCol;
    }

    public Param<String> probabilityCol() {
        return probabilityCol;
    }

    public IntParam batchSize() {
        return batchSize;
    }

    public Param<String> device() {
        return device;
    }

    public Param<String> handleInvalid() {
        return handleInvalid;
    }

    public Param<String> mode() {
        return mode;
    }

    public IntParam unfreezeLastBlocks() {
        return unfreezeLastBlocks;
    }

    public DoubleParam numTrainEpochs() {
        return numTrainEpochs;
    }

    public LongParam maxSteps() {
        return maxSteps;
    }

    public IntParam trainBatchSize() {
        return trainBatchSize;
    }

    public DoubleParam learningRate() {
        return learningRate;
    }

    public DoubleParam weightDecay() {
        return weightDecay;
    }

    public DoubleParam warmupRatio() {
        return warmupRatio;
    }

    public LongParam seed() {
        return seed;
    }

    public Param<String> outputDir() {
        return outputDir;
    }

    public IntParam numWorkers() {
        return numWorkers;
    }

    public IntParam maxAttempts() {
        return maxAttempts;
    }

    public BooleanParam fromScratch() {
        return fromScratch;
    }

    public IntParam checkConsistencyEverySteps() {
        return checkConsistencyEverySteps;
    }

    public ImageClassifier setModel(String v) {
        set(model, v);
        return this;
    }

    public ImageClassifier setInputCol(String v) {
        set(inputCol, v);
        return this;
    }

    public ImageClassifier setLabelCol(String v) {
        set(labelCol, v);
        return this;
    }

    public ImageClassifier setOutputCol(String v) {
        set(outputCol, v);
        return this;
    }

    public ImageClassifier setScoreCol(String v) {
        set(scoreCol, v);
        return this;
    }

    public ImageClassifier setProbabilityCol(String v) {
        set(probabilityCol, v);
        return this;
    }

    public ImageClassifier setBatchSize(int v) {
        set(batchSize, v);
        return this;
    }

    public ImageClassifier setDevice(String v) {
        set(device, v);
        return this;
    }

    public ImageClassifier setHandleInvalid(String v) {
        set(handleInvalid, v);
        return this;
    }

    public ImageClassifier setMode(String v) {
        set(mode, v);
        return this;
    }

    public ImageClassifier setUnfreezeLastBlocks(int v) {
        set(unfreezeLastBlocks, v);
        return this;
    }

    public ImageClassifier setNumTrainEpochs(double v) {
        set(numTrainEpochs, v);
        return this;
    }

    public ImageClassifier setMaxSteps(long v) {
        set(maxSteps, v);
        return this;
    }

    public ImageClassifier setTrainBatchSize(int v) {
        set(trainBatchSize, v);
        return this;
    }

    public ImageClassifier setLearningRate(double v) {
        set(learningRate, v);
        return this;
    }

    public ImageClassifier setWeightDecay(double v) {
        set(weightDecay, v);
        return this;
    }

    public ImageClassifier setWarmupRatio(double v) {
        set(warmupRatio, v);
        return this;
    }

    public ImageClassifier setSeed(long v) {
        set(seed, v);
        return this;
    }

    public ImageClassifier setOutputDir(String v) {
        set(outputDir, v);
        return this;
    }

    public ImageClassifier setNumWorkers(int v) {
        set(numWorkers, v);
        return this;
    }

    public ImageClassifier setMaxAttempts(int v) {
        set(maxAttempts, v);
        return this;
    }

    public ImageClassifier setFromScratch(boolean v) {
        set(fromScratch, v);
        return this;
    }

    public ImageClassifier setCheckConsistencyEverySteps(int v) {
        set(checkConsistencyEverySteps, v);
        return this;
    }

    public String getModel() {
        return getOrDefault(model);
    }

    public String getInputCol() {
        return getOrDefault(inputCol);
    }

    public String getLabelCol() {
        return getOrDefault(labelCol);
    }

    public String getOutputCol() {
        return getOrDefault(outputCol);
    }

    public String getHandleInvalid() {
        return getOrDefault(handleInvalid);
    }

    public String getMode() {
        return getOrDefault(mode);
    }

    public int getUnfreezeLastBlocks() {
        return (Integer) getOrDefault(unfreezeLastBlocks);
    }

    public String getOutputDir() {
        return getOrDefault(outputDir);
    }

    public static MLReader<ImageClassifier> read() {
        return new DefaultParamsReader<>();
    }

    public static ImageClassifier load(String path) {
        return read().load(path);
    }

    @Override
    public MLWriter write() {
        return new DefaultParamsWriter(this);
    }

    @Override
    public ImageClassifier copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    /** The fitted model's schema; fails before any job on a missing model, a non-image column or a bad label type. */
    @Override
    public StructType transformSchema(StructType schema) {
        if (!isDefined(model) || getModel() == null || getModel().isBlank()) {
            throw new IllegalArgumentException("ImageClassifier " + uid()
                    + ": the model Param is not set; call setModel " + "with a pretrained image checkpoint folder");
        }
        ImageInput.validate(schema, getInputCol(), "inputCol");
        if (!Arrays.asList(schema.fieldNames()).contains(getLabelCol())) {
            throw new IllegalArgumentException("Label column '" + getLabelCol() + "' does not exist (labelCol); the "
                    + "dataset has " + String.join(", ", schema.fieldNames()));
        }
        DataType t = schema.apply(getLabelCol()).dataType();
        if (!t.equals(DataTypes.StringType) && !(t instanceof NumericType)) {
            throw new IllegalArgumentException("Label column '" + getLabelCol() + "' must be string or numeric but got "
                    + t.catalogString() + "; set labelCol to the class column or cast it");
        }
        if (getMode().equals("partial") && getUnfreezeLastBlocks() == 0) {
            throw new IllegalArgumentException(
                    "mode partial trains no feature block: set unfreezeLastBlocks > 0, or " + "use feature_extraction");
        }
        if (!getMode().equals("partial") && getUnfreezeLastBlocks() > 0) {
            throw new IllegalArgumentException("unfreezeLastBlocks applies to mode partial only, not " + getMode());
        }
        if ((Boolean) getOrDefault(fromScratch) && !getMode().equals("fine_tune")) {
            throw new IllegalArgumentException("fromScratch trains every weight from its initialisation: set mode "
                    + "fine_tune (mode " + getMode() + " needs pretrained weights)");
        }
        return model(schema).transformSchema(schema);
    }

    private ImageClassificationModel model(StructType schema) {
        ImageClassificationModel m = new ImageClassificationModel(uid());
        copyValues(m, extractParamMap());
        return m;
    }

    @Override
    public ImageClassificationModel fit(Dataset<?> dataset) {
        return fitWithSummary(dataset).model();
    }

    /** A fitted model and what the fit did (the same summary as the text Estimators'). */
    public record FitResult(ImageClassificationModel model, TextClassifier.FitSummary summary) {}

    /** {@link #fit} that also returns the {@link TextClassifier.FitSummary}. */
    public FitResult fitWithSummary(Dataset<?> dataset) {
        transformSchema(dataset.schema(), true);
        boolean scratch = (Boolean) getOrDefault(fromScratch);
        try {
            Path folder = ModelRefs.localFolder(getModel());
            if (scratch && !Files.isRegularFile(folder.resolve("config.json"))) {
                throw new IllegalArgumentException("ImageClassifier " + uid() + ": fromScratch needs a config.json in "
                        + folder + " (the architecture to build)");
            }
            SparkContext sc = dataset.sparkSession().sparkContext();
            String out = getOutputDir();
            if (out.isEmpty()) {
                if (!sc.master().startsWith("local")) {
                    throw new IllegalArgumentException("ImageClassifier " + uid() + ": set outputDir to a folder every "
                            + "executor and the driver can reach (HDFS, S3, a shared mount) on master " + sc.master());
                }
                out = Files.createTempDirectory("sparkformers-image-classifier-")
                        .toString();
            }
            JavaRDD<DistributedTraining.Example> examples = decode(dataset);
            examples.persist(StorageLevel.MEMORY_AND_DISK());
            try {
                List<String> names = labels(examples);
                TrainingArguments args = TrainingArguments.builder(out)
                        .set("overwrite_output_dir", true)
                        .numTrainEpochs((Double) getOrDefault(numTrainEpochs))
                        .maxSteps((Long) getOrDefault(maxSteps))
                        .perDeviceTrainBatchSize((Integer) getOrDefault(trainBatchSize))
                        .perDeviceEvalBatchSize((Integer) getOrDefault(batchSize))
                        .learningRate((Double) getOrDefault(learningRate))
                        .weightDecay((Double) getOrDefault(weightDecay))
                        .warmupRatio((Double) getOrDefault(warmupRatio))
                        .seed((Long) getOrDefault(seed))
                        .evalStrategy("no")
                        .saveStrategy("no")
                        .loggingSteps(10)
                        .build();
                DistributedTraining.Spec spec = new DistributedTraining.Spec(
                        args.toMap(),
                        getModel(),
                        Task.SEQUENCE_CLASSIFICATION,
                        LabelKind.SINGLE_LABEL,
                        names,
                        getMode(),
                        getUnfreezeLastBlocks(),
                        0,
                        (Integer) getOrDefault(numWorkers),
                        (Integer) getOrDefault(maxAttempts),
                        (Integer) getOrDefault(checkConsistencyEverySteps),
                        getOrDefault(device),
                        true,
                        scratch,
                        callbacks(),
                        DistributedTraining.TaskOptions.DEFAULTS);
                DistributedTraining.Summary s = DistributedTraining.run(sc, examples, spec);
                ImageClassificationModel fitted = model(dataset.schema());
                fitted.setModel(out); // as given: a local path stays a path
                fitted.setParent(this);
                return new FitResult(fitted, TextClassifier.summaryOf(s));
            } finally {
                examples.unpersist(false);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("ImageClassifier " + uid() + ": " + e.getMessage(), e);
        }
    }

    /**
     * The labelled images, decoded where the rows are; unreadable rows (or null labels) fail the fit or are left
     * out, per handleInvalid. A row is named by its image origin or path when the data has one, else by partition
     * and position.
     */
    private JavaRDD<DistributedTraining.Example> decode(Dataset<?> dataset) {
        ImageInput input = ImageInput.of(dataset.schema(), getInputCol(), "inputCol");
        int labelIndex = Arrays.asList(dataset.schema().fieldNames()).indexOf(getLabelCol());
        boolean error = getHandleInvalid().equals(ModelStage.ERROR);
        String labelColumn = getLabelCol();
        String id = uid();
        return dataset.toDF()
                .javaRDD()
                .mapPartitionsWithIndex(
                        (part, rows) -> {
                            List<DistributedTraining.Example> out = new ArrayList<>();
                            long k = 0;
                            while (rows.hasNext()) {
                                Row r = rows.next();
                                String where = "partition " + part + " row " + k++;
                                try {
                                    if (r.isNullAt(labelIndex)) {
                                        throw new ImageDecodeException(
                                                where, "the label in column '" + labelColumn + "' is null");
                                    }
                                    out.add(DistributedTraining.Example.image(
                                            false, input.read(r, where), labelText(r.get(labelIndex))));
                                } catch (ImageDecodeException | IllegalArgumentException e) {
                                    if (error) {
                                        throw new IllegalArgumentException(
                                                "ImageClassifier " + id + ": cannot train on " + e.getMessage()
                                                        + ". Set handleInvalid to 'skip' to leave such rows out",
                                                e);
                                    }
                                }
                            }
                            return out.iterator();
                        },
                        false);
    }

    /**
     * The sorted distinct labels, at least two; the first job over the rows, so a bad row fails here with its own
     * message.
     */
    private List<String> labels(JavaRDD<DistributedTraining.Example> examples) {
        Map<String, Long> seen;
        try {
            seen = examples.map(DistributedTraining.Example::label).countByValue();
        } catch (Exception e) { // SparkException is checked, though Scala throws it
            String reason = TaskFailures.badInput(e).orElse(null);
            if (reason == null)
                throw e instanceof RuntimeException r ? r : new IllegalStateException(e.getMessage(), e);
            throw new IllegalArgumentException(reason, e);
        }
        if (seen.isEmpty()) {
            throw new IllegalArgumentException("ImageClassifier " + uid() + ": no trainable row (every image was "
                    + "unreadable or unlabelled, or the dataset is empty)");
        }
        return singleLabelClasses(seen, getLabelCol());
    }

    /** A label as text; whole numbers without ".0". */
    private static String labelText(Object v) {
        if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (d == Math.rint(d) && !Double.isInfinite(d)) return Long.toString((long) d);
        }
        return v.toString();
    }
}
