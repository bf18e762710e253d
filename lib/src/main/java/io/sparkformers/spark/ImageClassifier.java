package io.sparkformers.spark;

import io.sparkformers.train.ImageDataset;
import io.sparkformers.train.ImageTrainer;
import io.sparkformers.train.LabelSpace;
import io.sparkformers.train.TrainingArguments;
import io.sparkformers.train.TransferMode;
import io.sparkformers.vision.ImageDecodeException;
import io.sparkformers.vision.RgbImage;
import org.apache.spark.ml.Estimator;
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

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The image-classification Estimator: fine-tunes a pretrained image checkpoint on labelled images in a DataFrame and
 * returns an {@link ImageClassificationModel} whose checkpoint (HF layout, with id2label from the data's labels,
 * sorted) is in {@code outputDir}. {@code mode} picks what trains: {@code feature_extraction} (the base frozen and in
 * eval mode, a new head with as many outputs as labels), {@code fine_tune} (everything) or {@code partial} (the head
 * and the last {@code unfreezeLastBlocks} feature blocks), through {@link ImageTrainer} with HF TrainingArguments
 * semantics.
 *
 * <p>Training runs in one process, on the driver: the rows are collected there (fine for the small labelled sets of
 * transfer learning, a few thousand images; not for millions). Rows whose image cannot be read follow
 * {@code handleInvalid} (error, or skip — keep also skips them for training, and keeps them in the fitted model's
 * output).
 */
public final class ImageClassifier extends Estimator<ImageClassificationModel> implements MLWritable {
    private static final long serialVersionUID = 1L;

    private final String uid;
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

    public ImageClassifier(String uid) {
        this.uid = uid;                                   // first: Params read it
        model = new Param<>(this, "model", "the pretrained image checkpoint folder (config.json, model.safetensors, "
                + "preprocessor_config.json) or a Hadoop URI of one");
        inputCol = new Param<>(this, "inputCol", "the image column: Spark's image struct or binary encoded bytes");
        labelCol = new Param<>(this, "labelCol", "the label column, string or numeric (classes are its distinct "
                + "values, sorted)");
        outputCol = new Param<>(this, "outputCol", "the fitted model's predicted label column");
        scoreCol = new Param<>(this, "scoreCol", "the fitted model's probability-of-the-label column");
        probabilityCol = new Param<>(this, "probabilityCol", "the fitted model's Vector of class probabilities "
                + "(\"\" for none)");
        batchSize = new IntParam(this, "batchSize", "images per forward pass when the model scores (> 0)",
                ParamValidators.gt(0));
        device = new Param<>(this, "device", "where the fitted model runs: auto, cpu or gpu",
                ParamValidators.inArray(new String[] {Devices.AUTO, Devices.CPU, Devices.GPU}));
        handleInvalid = new Param<>(this, "handleInvalid", "rows whose image cannot be read or whose label is null: "
                + "error (fail, naming the row), skip (leave them out of training) or keep (skip for training; the "
                + "fitted model flags them in <outputCol>_error)",
                ParamValidators.inArray(new String[] {ModelStage.ERROR, ModelStage.SKIP, ModelStage.KEEP}));
        mode = new Param<>(this, "mode", "what trains: feature_extraction (a new head on the frozen base), fine_tune "
                + "(every parameter) or partial (the head and the last unfreezeLastBlocks feature blocks)",
                ParamValidators.inArray(new String[] {"feature_extraction", "fine_tune", "partial"}));
        unfreezeLastBlocks = new IntParam(this, "unfreezeLastBlocks", "partial: feature blocks trained from the top "
                + "(> 0 with mode partial; ResNet-18 has 9, ViT embeddings + one per layer)", ParamValidators.gtEq(0));
        numTrainEpochs = new DoubleParam(this, "numTrainEpochs", "passes over the data (> 0; HF num_train_epochs)",
                ParamValidators.gt(0));
        maxSteps = new LongParam(this, "maxSteps", "optimizer steps, overriding numTrainEpochs when > 0 (HF "
                + "max_steps; -1 for none)", ParamValidators.gtEq(-1));
        trainBatchSize = new IntParam(this, "trainBatchSize", "images per optimizer step (> 0; HF "
                + "per_device_train_batch_size)", ParamValidators.gt(0));
        learningRate = new DoubleParam(this, "learningRate", "AdamW peak learning rate, linear decay (> 0)",
                ParamValidators.gt(0));
        weightDecay = new DoubleParam(this, "weightDecay", "AdamW weight decay, not on biases (>= 0)",
                ParamValidators.gtEq(0));
        warmupRatio = new DoubleParam(this, "warmupRatio", "share of steps warming the learning rate up, in [0, 1)",
                ParamValidators.inRange(0, 1, true, false));
        seed = new LongParam(this, "seed", "seed of the new head, data order and dropout");
        outputDir = new Param<>(this, "outputDir", "local folder for the fitted checkpoint (\"\": a new temporary "
                + "folder)");
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
    }

    public ImageClassifier() {
        this(Identifiable$.MODULE$.randomUID("imgCls"));
    }

    @Override
    public String uid() {
        return uid;
    }

    public Param<String> model() { return model; }
    public Param<String> inputCol() { return inputCol; }
    public Param<String> labelCol() { return labelCol; }
    public Param<String> outputCol() { return outputCol; }
    public Param<String> scoreCol() { return scoreCol; }
    public Param<String> probabilityCol() { return probabilityCol; }
    public IntParam batchSize() { return batchSize; }
    public Param<String> device() { return device; }
    public Param<String> handleInvalid() { return handleInvalid; }
    public Param<String> mode() { return mode; }
    public IntParam unfreezeLastBlocks() { return unfreezeLastBlocks; }
    public DoubleParam numTrainEpochs() { return numTrainEpochs; }
    public LongParam maxSteps() { return maxSteps; }
    public IntParam trainBatchSize() { return trainBatchSize; }
    public DoubleParam learningRate() { return learningRate; }
    public DoubleParam weightDecay() { return weightDecay; }
    public DoubleParam warmupRatio() { return warmupRatio; }
    public LongParam seed() { return seed; }
    public Param<String> outputDir() { return outputDir; }

    public ImageClassifier setModel(String v) { set(model, v); return this; }
    public ImageClassifier setInputCol(String v) { set(inputCol, v); return this; }
    public ImageClassifier setLabelCol(String v) { set(labelCol, v); return this; }
    public ImageClassifier setOutputCol(String v) { set(outputCol, v); return this; }
    public ImageClassifier setScoreCol(String v) { set(scoreCol, v); return this; }
    public ImageClassifier setProbabilityCol(String v) { set(probabilityCol, v); return this; }
    public ImageClassifier setBatchSize(int v) { set(batchSize, v); return this; }
    public ImageClassifier setDevice(String v) { set(device, v); return this; }
    public ImageClassifier setHandleInvalid(String v) { set(handleInvalid, v); return this; }
    public ImageClassifier setMode(String v) { set(mode, v); return this; }
    public ImageClassifier setUnfreezeLastBlocks(int v) { set(unfreezeLastBlocks, v); return this; }
    public ImageClassifier setNumTrainEpochs(double v) { set(numTrainEpochs, v); return this; }
    public ImageClassifier setMaxSteps(long v) { set(maxSteps, v); return this; }
    public ImageClassifier setTrainBatchSize(int v) { set(trainBatchSize, v); return this; }
    public ImageClassifier setLearningRate(double v) { set(learningRate, v); return this; }
    public ImageClassifier setWeightDecay(double v) { set(weightDecay, v); return this; }
    public ImageClassifier setWarmupRatio(double v) { set(warmupRatio, v); return this; }
    public ImageClassifier setSeed(long v) { set(seed, v); return this; }
    public ImageClassifier setOutputDir(String v) { set(outputDir, v); return this; }

    public String getModel() { return getOrDefault(model); }
    public String getInputCol() { return getOrDefault(inputCol); }
    public String getLabelCol() { return getOrDefault(labelCol); }
    public String getOutputCol() { return getOrDefault(outputCol); }
    public String getHandleInvalid() { return getOrDefault(handleInvalid); }
    public String getMode() { return getOrDefault(mode); }
    public int getUnfreezeLastBlocks() { return (Integer) getOrDefault(unfreezeLastBlocks); }
    public String getOutputDir() { return getOrDefault(outputDir); }

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
            throw new IllegalArgumentException("ImageClassifier " + uid + ": the model Param is not set; call setModel "
                    + "with a pretrained image checkpoint folder");
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
            throw new IllegalArgumentException("mode partial trains no feature block: set unfreezeLastBlocks > 0, or "
                    + "use feature_extraction");
        }
        if (!getMode().equals("partial") && getUnfreezeLastBlocks() > 0) {
            throw new IllegalArgumentException("unfreezeLastBlocks applies to mode partial only, not " + getMode());
        }
        return model(schema).transformSchema(schema);
    }

    private ImageClassificationModel model(StructType schema) {
        ImageClassificationModel m = new ImageClassificationModel(uid);
        copyValues(m, extractParamMap());
        return m;
    }

    @Override
    public ImageClassificationModel fit(Dataset<?> dataset) {
        transformSchema(dataset.schema(), true);
        try {
            Path pretrained = ModelRefs.localFolder(getModel());
            ImageDataset data = collect(dataset);
            Path out = getOutputDir().isEmpty() ? Files.createTempDirectory("sparkformers-image-classifier-")
                    : Path.of(getOutputDir());
            TrainingArguments args = TrainingArguments.builder(out.toString()).set("overwrite_output_dir", true)
                    .numTrainEpochs((Double) getOrDefault(numTrainEpochs)).maxSteps((Long) getOrDefault(maxSteps))
                    .perDeviceTrainBatchSize((Integer) getOrDefault(trainBatchSize))
                    .perDeviceEvalBatchSize((Integer) getOrDefault(batchSize))
                    .learningRate((Double) getOrDefault(learningRate)).weightDecay((Double) getOrDefault(weightDecay))
                    .warmupRatio((Double) getOrDefault(warmupRatio)).seed((Long) getOrDefault(seed))
                    .evalStrategy("no").saveStrategy("no").loggingSteps(10).build();
            TransferMode m = switch (getMode()) {
                case "feature_extraction" -> TransferMode.featureExtraction();
                case "fine_tune" -> TransferMode.fineTune();
                default -> TransferMode.partial(getUnfreezeLastBlocks(), List.of());
            };
            ImageTrainer.builder(args).pretrained(pretrained).mode(m).build().train(data, null);
            ImageClassificationModel fitted = model(dataset.schema());
            fitted.setModel(out.toAbsolutePath().toString());
            return fitted.setParent(this);
        } catch (IOException e) {
            throw new UncheckedIOException("ImageClassifier " + uid + ": " + e.getMessage(), e);
        }
    }

    /** The labelled images on the driver; unreadable rows fail or are left out, per handleInvalid. */
    private ImageDataset collect(Dataset<?> dataset) {
        ImageInput input = ImageInput.of(dataset.schema(), getInputCol(), "inputCol");
        int labelIndex = Arrays.asList(dataset.schema().fieldNames()).indexOf(getLabelCol());
        boolean error = getHandleInvalid().equals(ModelStage.ERROR);
        List<RgbImage> images = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        long n = 0;
        int skipped = 0;
        for (Row r : dataset.toDF().collectAsList()) {
            String where = "row " + n++;
            try {
                if (r.isNullAt(labelIndex)) {
                    throw new ImageDecodeException(where, "the label in column '" + getLabelCol() + "' is null");
                }
                images.add(input.read(r, where));
                labels.add(labelText(r.get(labelIndex)));
            } catch (ImageDecodeException | IllegalArgumentException e) {
                if (error) {
                    throw new IllegalArgumentException("ImageClassifier " + uid + ": cannot train on " + e.getMessage()
                            + ". Set handleInvalid to 'skip' to leave such rows out", e);
                }
                skipped++;
            }
        }
        if (images.isEmpty()) {
            throw new IllegalArgumentException("ImageClassifier " + uid + ": no trainable row (" + n + " rows, "
                    + skipped + " unreadable)");
        }
        List<String> names = LabelSpace.fromLabels(labels).names();
        List<Integer> ids = labels.stream().map(names::indexOf).toList();
        return ImageDataset.of("DataFrame " + getInputCol() + "/" + getLabelCol() + " (" + images.size() + " rows"
                + (skipped > 0 ? ", " + skipped + " skipped" : "") + ")", images, ids, names);
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
