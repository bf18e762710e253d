package io.sparkformers.spark;

import io.sparkformers.nn.Task;
import io.sparkformers.train.DataCollatorWithPadding.LabelKind;
import io.sparkformers.train.LabelSpace;
import io.sparkformers.train.TrainingArguments;
import io.sparkformers.train.TrainingData;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.param.StringArrayParam;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.BooleanType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.lit;

/**
 * HF's {@code Trainer} for sequence classification as a Spark ML Estimator: fine-tunes a pretrained checkpoint on the
 * labelled rows of a DataFrame across {@code numWorkers} Spark tasks (data parallel, {@link DistributedTraining}) and
 * returns a {@link TextClassificationModel} holding the fine-tuned checkpoint (HF layout, in {@code outputDir}).
 * Single-label ({@code labelCol} of any type, read as text), multi-label ({@code array<string>} or comma-separated
 * names) and regression (numeric) follow HF's {@code problem_type}. The training Params mirror HF
 * {@code TrainingArguments} (camelCased names, HF defaults); rows flagged by {@code validationIndicatorCol} are the
 * evaluation set. Fitting never changes the estimator; everything a run needs is copied into plain values first.
 */
public final class TextClassifier extends Estimator<TextClassificationModel>
        implements TextInputParams, DefaultParamsWritable {
    private static final long serialVersionUID = 1L;

    public static final String SINGLE_LABEL = "single_label_classification";
    public static final String MULTI_LABEL = "multi_label_classification";
    public static final String REGRESSION = "regression";

    private final String uid;
    private final Param<String> model;
    private final IntParam maxLength;
    private final Param<String> inputCol;
    private final Param<String> inputPairCol;
    private final Param<String> inputIdsCol;
    private final Param<String> attentionMaskCol;
    private final Param<String> tokenTypeIdsCol;

    private final Param<String> labelCol;
    private final Param<String> predictionCol;
    private final Param<String> validationIndicatorCol;
    private final Param<String> problemType;
    private final StringArrayParam labels;
    private final Param<String> mode;
    private final IntParam unfreezeLastLayers;
    private final IntParam numWorkers;
    private final IntParam maxAttempts;
    private final IntParam checkConsistencyEverySteps;
    private final Param<String> device;

    /** The Params that are HF TrainingArguments, in HF order; the HF key is the snake_case of the name. */
    private final List<Param<?>> trainingParams = new ArrayList<>();
    private final Param<String> outputDir;
    private final BooleanParam overwriteOutputDir;
    private final DoubleParam numTrainEpochs;
    private final LongParam maxSteps;
    private final IntParam perDeviceTrainBatchSize;
    private final IntParam perDeviceEvalBatchSize;
    private final IntParam gradientAccumulationSteps;
    private final DoubleParam learningRate;
    private final DoubleParam weightDecay;
    private final DoubleParam maxGradNorm;
    private final Param<String> lrSchedulerType;
    private final DoubleParam warmupRatio;
    private final LongParam warmupSteps;
    private final DoubleParam loggingSteps;
    private final Param<String> evalStrategy;
    private final DoubleParam evalSteps;
    private final Param<String> saveStrategy;
    private final DoubleParam saveSteps;
    private final IntParam saveTotalLimit;
    private final BooleanParam loadBestModelAtEnd;
    private final Param<String> metricForBestModel;
    private final Param<String> optim;
    private final LongParam seed;
    private final BooleanParam dataloaderDropLast;
    private final DoubleParam labelSmoothingFactor;
    private final Param<String> resumeFromCheckpoint;

    public TextClassifier(String uid) {
        this.uid = uid;                                   // first: Params read it
        model = new Param<>(this, "model", "the pretrained checkpoint: a Hugging Face folder, a Hadoop URI of one or a "
                + "built-in alias such as all-MiniLM-L6-v2");
        maxLength = new IntParam(this, "maxLength", "tokens kept per row, special tokens included (> 0; capped by the "
                + "checkpoint's model_max_length)", ParamValidators.gt(0));
        inputCol = new Param<>(this, "inputCol", "string column holding the text");
        inputPairCol = new Param<>(this, "inputPairCol", "string column of the second segment (\"\" for none)");
        inputIdsCol = new Param<>(this, "inputIdsCol", "token-id column the fitted model reads when present (training "
                + "tokenizes inputCol)");
        attentionMaskCol = new Param<>(this, "attentionMaskCol", "attention-mask column, for the fitted model");
        tokenTypeIdsCol = new Param<>(this, "tokenTypeIdsCol", "token-type column, for the fitted model");
        labelCol = new Param<>(this, "labelCol", "label column: any type for single-label (read as text), array<string> "
                + "or comma-separated names for multi-label, numeric for regression");
        predictionCol = new Param<>(this, "predictionCol", "the fitted model's output column: the predicted label");
        validationIndicatorCol = new Param<>(this, "validationIndicatorCol", "boolean column marking evaluation rows "
                + "(true) apart from training rows; \"\" for none");
        problemType = new Param<>(this, "problemType", "HF problem_type: " + SINGLE_LABEL + ", " + MULTI_LABEL + " or "
                + REGRESSION, ParamValidators.inArray(new String[] {SINGLE_LABEL, MULTI_LABEL, REGRESSION}));
        labels = new StringArrayParam(this, "labels", "class names in id order; empty: the sorted distinct labels of "
                + "the training rows (one extra job)");
        mode = new Param<>(this, "mode", "transfer mode: fine_tune (every weight), feature_extraction (frozen encoder, "
                + "new head) or partial (head + unfreezeLastLayers)",
                ParamValidators.inArray(new String[] {"fine_tune", "feature_extraction", "partial"}));
        unfreezeLastLayers = new IntParam(this, "unfreezeLastLayers", "encoder layers trained under mode partial (>= 0)",
                ParamValidators.gtEq(0));
        numWorkers = new IntParam(this, "numWorkers", "training tasks, one model replica each, run together in one "
                + "barrier stage (1..64; the cluster needs this many free task slots)", ParamValidators.inRange(1, 64));
        maxAttempts = new IntParam(this, "maxAttempts", "barrier jobs tried before the fit fails; each retry resumes "
                + "from the latest complete checkpoint (>= 1)", ParamValidators.gtEq(1));
        checkConsistencyEverySteps = new IntParam(this, "checkConsistencyEverySteps", "steps between checks that every "
                + "replica holds the same weights (>= 0; 0 = never)", ParamValidators.gtEq(0));
        device = new Param<>(this, "device", "where replicas train: auto (the task's Spark GPU if it holds one, else "
                + "CPU), cpu, or gpu", ParamValidators.inArray(new String[] {Devices.AUTO, Devices.CPU, Devices.GPU}));

        outputDir = training(new Param<>(this, "outputDir", "HF output_dir: checkpoints, final model and reports; any "
                + "Hadoop file system path (required)"));
        overwriteOutputDir = training(new BooleanParam(this, "overwriteOutputDir", "HF overwrite_output_dir: allow a "
                + "non-empty outputDir"));
        numTrainEpochs = training(new DoubleParam(this, "numTrainEpochs", "HF num_train_epochs (> 0; ignored when "
                + "maxSteps > 0)", ParamValidators.gt(0)));
        maxSteps = training(new LongParam(this, "maxSteps", "HF max_steps: optimizer steps; > 0 overrides "
                + "numTrainEpochs, -1 for none"));
        perDeviceTrainBatchSize = training(new IntParam(this, "perDeviceTrainBatchSize", "HF "
                + "per_device_train_batch_size: examples per replica per forward pass (> 0); the global batch is this "
                + "× gradientAccumulationSteps × numWorkers", ParamValidators.gt(0)));
        perDeviceEvalBatchSize = training(new IntParam(this, "perDeviceEvalBatchSize", "HF per_device_eval_batch_size "
                + "(> 0)", ParamValidators.gt(0)));
        gradientAccumulationSteps = training(new IntParam(this, "gradientAccumulationSteps", "HF "
                + "gradient_accumulation_steps (> 0)", ParamValidators.gt(0)));
        learningRate = training(new DoubleParam(this, "learningRate", "HF learning_rate: peak rate (> 0)",
                ParamValidators.gt(0)));
        weightDecay = training(new DoubleParam(this, "weightDecay", "HF weight_decay (>= 0; not on biases and "
                + "LayerNorm)", ParamValidators.gtEq(0)));
        maxGradNorm = training(new DoubleParam(this, "maxGradNorm", "HF max_grad_norm: global-norm clipping (>= 0; 0 "
                + "disables)", ParamValidators.gtEq(0)));
        lrSchedulerType = training(new Param<>(this, "lrSchedulerType", "HF lr_scheduler_type (linear, cosine, "
                + "constant, constant_with_warmup, …)"));
        warmupRatio = training(new DoubleParam(this, "warmupRatio", "HF warmup_ratio, in [0, 1]",
                ParamValidators.inRange(0, 1)));
        warmupSteps = training(new LongParam(this, "warmupSteps", "HF warmup_steps (>= 0; wins over warmupRatio)",
                ParamValidators.gtEq(0)));
        loggingSteps = training(new DoubleParam(this, "loggingSteps", "HF logging_steps (> 0; < 1 is a ratio of the "
                + "total steps)", ParamValidators.gt(0)));
        evalStrategy = training(new Param<>(this, "evalStrategy", "HF eval_strategy: no, steps or epoch",
                ParamValidators.inArray(new String[] {"no", "steps", "epoch"})));
        evalSteps = training(new DoubleParam(this, "evalSteps", "HF eval_steps (>= 0; 0 = loggingSteps)",
                ParamValidators.gtEq(0)));
        saveStrategy = training(new Param<>(this, "saveStrategy", "HF save_strategy: no, steps, epoch or best; a retry "
                + "after a lost executor resumes from the latest checkpoint",
                ParamValidators.inArray(new String[] {"no", "steps", "epoch", "best"})));
        saveSteps = training(new DoubleParam(this, "saveSteps", "HF save_steps (> 0; < 1 is a ratio): at most this "
                + "much work is lost to an executor failure", ParamValidators.gt(0)));
        saveTotalLimit = training(new IntParam(this, "saveTotalLimit", "HF save_total_limit: checkpoints kept besides "
                + "the best (>= 0; 0 keeps all)", ParamValidators.gtEq(0)));
        loadBestModelAtEnd = training(new BooleanParam(this, "loadBestModelAtEnd", "HF load_best_model_at_end"));
        metricForBestModel = training(new Param<>(this, "metricForBestModel", "HF metric_for_best_model (\"\" for "
                + "HF's default, loss)"));
        optim = training(new Param<>(this, "optim", "HF optim: adamw_torch, adamw_hf or sgd",
                ParamValidators.inArray(new String[] {"adamw_torch", "adamw_hf", "sgd"})));
        seed = training(new LongParam(this, "seed", "HF seed: new-head initialisation, data order, dropout"));
        dataloaderDropLast = training(new BooleanParam(this, "dataloaderDropLast", "HF dataloader_drop_last"));
        labelSmoothingFactor = training(new DoubleParam(this, "labelSmoothingFactor", "HF label_smoothing_factor, in "
                + "[0, 1)", ParamValidators.inRange(0, 1, true, false)));
        resumeFromCheckpoint = training(new Param<>(this, "resumeFromCheckpoint", "HF resume_from_checkpoint: a "
                + "checkpoint folder (Hadoop path), true for the latest in outputDir, \"\" for none"));

        setDefault(maxLength, 128);
        setDefault(inputCol, "text");
        setDefault(inputPairCol, "");
        setDefault(inputIdsCol, "input_ids");
        setDefault(attentionMaskCol, "attention_mask");
        setDefault(tokenTypeIdsCol, "token_type_ids");
        setDefault(labelCol, "label");
        setDefault(predictionCol, "prediction");
        setDefault(validationIndicatorCol, "");
        setDefault(problemType, SINGLE_LABEL);
        setDefault(labels, new String[0]);
        setDefault(mode, "fine_tune");
        setDefault(unfreezeLastLayers, 0);
        setDefault(numWorkers, 1);
        setDefault(maxAttempts, 3);
        setDefault(checkConsistencyEverySteps, 100);
        setDefault(device, Devices.AUTO);
        setDefault(overwriteOutputDir, false);
        setDefault(numTrainEpochs, 3.0);
        setDefault(maxSteps, -1L);
        setDefault(perDeviceTrainBatchSize, 8);
        setDefault(perDeviceEvalBatchSize, 8);
        setDefault(gradientAccumulationSteps, 1);
        setDefault(learningRate, 5e-5);
        setDefault(weightDecay, 0.0);
        setDefault(maxGradNorm, 1.0);
        setDefault(lrSchedulerType, "linear");
        setDefault(warmupRatio, 0.0);
        setDefault(warmupSteps, 0L);
        setDefault(loggingSteps, 500.0);
        setDefault(evalStrategy, "no");
        setDefault(evalSteps, 0.0);
        setDefault(saveStrategy, "steps");
        setDefault(saveSteps, 500.0);
        setDefault(saveTotalLimit, 0);
        setDefault(loadBestModelAtEnd, false);
        setDefault(metricForBestModel, "");
        setDefault(optim, "adamw_torch");
        setDefault(seed, 42L);
        setDefault(dataloaderDropLast, false);
        setDefault(labelSmoothingFactor, 0.0);
        setDefault(resumeFromCheckpoint, "");
    }

    public TextClassifier() {
        this(Identifiable$.MODULE$.randomUID("textClassifier"));
    }

    private <P extends Param<?>> P training(P p) {
        trainingParams.add(p);
        return p;
    }

    @Override
    public String uid() {
        return uid;
    }

    public static MLReader<TextClassifier> read() {
        return new DefaultParamsReader<>();
    }

    public static TextClassifier load(String path) {
        return read().load(path);
    }

    // ------------------------------------------------------------------------------------------ Params

    @Override public Param<String> model() { return model; }
    @Override public IntParam maxLength() { return maxLength; }
    @Override public Param<String> inputCol() { return inputCol; }
    @Override public Param<String> inputPairCol() { return inputPairCol; }
    @Override public Param<String> inputIdsCol() { return inputIdsCol; }
    @Override public Param<String> attentionMaskCol() { return attentionMaskCol; }
    @Override public Param<String> tokenTypeIdsCol() { return tokenTypeIdsCol; }
    public Param<String> labelCol() { return labelCol; }
    public Param<String> predictionCol() { return predictionCol; }
    public Param<String> validationIndicatorCol() { return validationIndicatorCol; }
    public Param<String> problemType() { return problemType; }
    public StringArrayParam labels() { return labels; }
    public Param<String> mode() { return mode; }
    public IntParam unfreezeLastLayers() { return unfreezeLastLayers; }
    public IntParam numWorkers() { return numWorkers; }
    public IntParam maxAttempts() { return maxAttempts; }
    public IntParam checkConsistencyEverySteps() { return checkConsistencyEverySteps; }
    public Param<String> device() { return device; }
    public Param<String> outputDir() { return outputDir; }
    public BooleanParam overwriteOutputDir() { return overwriteOutputDir; }
    public DoubleParam numTrainEpochs() { return numTrainEpochs; }
    public LongParam maxSteps() { return maxSteps; }
    public IntParam perDeviceTrainBatchSize() { return perDeviceTrainBatchSize; }
    public IntParam perDeviceEvalBatchSize() { return perDeviceEvalBatchSize; }
    public IntParam gradientAccumulationSteps() { return gradientAccumulationSteps; }
    public DoubleParam learningRate() { return learningRate; }
    public DoubleParam weightDecay() { return weightDecay; }
    public DoubleParam maxGradNorm() { return maxGradNorm; }
    public Param<String> lrSchedulerType() { return lrSchedulerType; }
    public DoubleParam warmupRatio() { return warmupRatio; }
    public LongParam warmupSteps() { return warmupSteps; }
    public DoubleParam loggingSteps() { return loggingSteps; }
    public Param<String> evalStrategy() { return evalStrategy; }
    public DoubleParam evalSteps() { return evalSteps; }
    public Param<String> saveStrategy() { return saveStrategy; }
    public DoubleParam saveSteps() { return saveSteps; }
    public IntParam saveTotalLimit() { return saveTotalLimit; }
    public BooleanParam loadBestModelAtEnd() { return loadBestModelAtEnd; }
    public Param<String> metricForBestModel() { return metricForBestModel; }
    public Param<String> optim() { return optim; }
    public LongParam seed() { return seed; }
    public BooleanParam dataloaderDropLast() { return dataloaderDropLast; }
    public DoubleParam labelSmoothingFactor() { return labelSmoothingFactor; }
    public Param<String> resumeFromCheckpoint() { return resumeFromCheckpoint; }

    public TextClassifier setModel(String v) { set(model, v); return this; }
    public TextClassifier setMaxLength(int v) { set(maxLength, v); return this; }
    public TextClassifier setInputCol(String v) { set(inputCol, v); return this; }
    public TextClassifier setInputPairCol(String v) { set(inputPairCol, v); return this; }
    public TextClassifier setLabelCol(String v) { set(labelCol, v); return this; }
    public TextClassifier setPredictionCol(String v) { set(predictionCol, v); return this; }
    public TextClassifier setValidationIndicatorCol(String v) { set(validationIndicatorCol, v); return this; }
    public TextClassifier setProblemType(String v) { set(problemType, v); return this; }
    public TextClassifier setLabels(String... v) { set(labels, v); return this; }
    public TextClassifier setMode(String v) { set(mode, v); return this; }
    public TextClassifier setUnfreezeLastLayers(int v) { set(unfreezeLastLayers, v); return this; }
    public TextClassifier setNumWorkers(int v) { set(numWorkers, v); return this; }
    public TextClassifier setMaxAttempts(int v) { set(maxAttempts, v); return this; }
    public TextClassifier setCheckConsistencyEverySteps(int v) { set(checkConsistencyEverySteps, v); return this; }
    public TextClassifier setDevice(String v) { set(device, v); return this; }
    public TextClassifier setOutputDir(String v) { set(outputDir, v); return this; }
    public TextClassifier setOverwriteOutputDir(boolean v) { set(overwriteOutputDir, v); return this; }
    public TextClassifier setNumTrainEpochs(double v) { set(numTrainEpochs, v); return this; }
    public TextClassifier setMaxSteps(long v) { set(maxSteps, v); return this; }
    public TextClassifier setPerDeviceTrainBatchSize(int v) { set(perDeviceTrainBatchSize, v); return this; }
    public TextClassifier setPerDeviceEvalBatchSize(int v) { set(perDeviceEvalBatchSize, v); return this; }
    public TextClassifier setGradientAccumulationSteps(int v) { set(gradientAccumulationSteps, v); return this; }
    public TextClassifier setLearningRate(double v) { set(learningRate, v); return this; }
    public TextClassifier setWeightDecay(double v) { set(weightDecay, v); return this; }
    public TextClassifier setMaxGradNorm(double v) { set(maxGradNorm, v); return this; }
    public TextClassifier setLrSchedulerType(String v) { set(lrSchedulerType, v); return this; }
    public TextClassifier setWarmupRatio(double v) { set(warmupRatio, v); return this; }
    public TextClassifier setWarmupSteps(long v) { set(warmupSteps, v); return this; }
    public TextClassifier setLoggingSteps(double v) { set(loggingSteps, v); return this; }
    public TextClassifier setEvalStrategy(String v) { set(evalStrategy, v); return this; }
    public TextClassifier setEvalSteps(double v) { set(evalSteps, v); return this; }
    public TextClassifier setSaveStrategy(String v) { set(saveStrategy, v); return this; }
    public TextClassifier setSaveSteps(double v) { set(saveSteps, v); return this; }
    public TextClassifier setSaveTotalLimit(int v) { set(saveTotalLimit, v); return this; }
    public TextClassifier setLoadBestModelAtEnd(boolean v) { set(loadBestModelAtEnd, v); return this; }
    public TextClassifier setMetricForBestModel(String v) { set(metricForBestModel, v); return this; }
    public TextClassifier setOptim(String v) { set(optim, v); return this; }
    public TextClassifier setSeed(long v) { set(seed, v); return this; }
    public TextClassifier setDataloaderDropLast(boolean v) { set(dataloaderDropLast, v); return this; }
    public TextClassifier setLabelSmoothingFactor(double v) { set(labelSmoothingFactor, v); return this; }
    public TextClassifier setResumeFromCheckpoint(String v) { set(resumeFromCheckpoint, v); return this; }

    /**
     * Sets the training Params from HF TrainingArguments names ({@code learning_rate} → {@code learningRate}), e.g. a
     * finetune YAML config's {@code training:} section. An HF key this stage has no Param for is an error naming the
     * supported keys.
     */
    public TextClassifier setTrainingArguments(Map<String, ?> hf) {
        for (Map.Entry<String, ?> e : hf.entrySet()) {
            Param<?> p = null;
            for (Param<?> q : trainingParams) if (snake(q.name()).equals(e.getKey())) p = q;
            if (p == null) {
                List<String> names = new ArrayList<>();
                for (Param<?> q : trainingParams) names.add(snake(q.name()));
                throw new IllegalArgumentException("training argument '" + e.getKey() + "' has no TextClassifier Param; "
                        + "supported: " + names);
            }
            set(p.name(), coerce(p, e.getValue()));
        }
        return this;
    }

    private static Object coerce(Param<?> p, Object v) {
        if (p instanceof DoubleParam) return ((Number) v).doubleValue();
        if (p instanceof LongParam) return ((Number) v).longValue();
        if (p instanceof IntParam) return ((Number) v).intValue();
        if (p instanceof BooleanParam) return v instanceof Boolean b ? b : Boolean.parseBoolean(v.toString());
        return v == null ? "" : v.toString();
    }

    static String snake(String camel) {
        return camel.replaceAll("([A-Z])", "_$1").toLowerCase(java.util.Locale.ROOT);
    }

    /** The HF TrainingArguments these Params give (validated): the checks of a run, before any job. */
    public TrainingArguments trainingArguments() {
        return TrainingArguments.fromMap(hfArgs());
    }

    private Map<String, Object> hfArgs() {
        if (!isDefined(outputDir)) {
            throw new IllegalArgumentException("TextClassifier: outputDir is not set: set it to the folder (any Hadoop "
                    + "path) for checkpoints and the fine-tuned model");
        }
        Map<String, Object> m = new LinkedHashMap<>();
        for (Param<?> p : trainingParams) {
            Object v = getOrDefault(p);
            String key = snake(p.name());
            if ("".equals(v) || (Double.valueOf(0.0).equals(v) && key.equals("eval_steps"))
                    || (Integer.valueOf(0).equals(v) && key.equals("save_total_limit"))) {
                v = null;
            }
            m.put(key, v);
        }
        m.put("report_to", List.of("jsonl"));
        return m;
    }

    // ------------------------------------------------------------------------------------------ fit

    @Override
    public StructType transformSchema(StructType schema) {
        if (getModel() == null) {
            throw new IllegalArgumentException("TextClassifier: the model Param is not set: give the pretrained "
                    + "checkpoint (folder, Hadoop URI or alias)");
        }
        requireType(schema, getInputCol(), "inputCol", "string", t -> t instanceof StringType);
        if (!getInputPairCol().isEmpty()) {
            requireType(schema, getInputPairCol(), "inputPairCol", "string", t -> t instanceof StringType);
        }
        String label = getOrDefault(labelCol);
        switch (getOrDefault(problemType)) {
            case REGRESSION -> requireType(schema, label, "labelCol", "numeric", t -> t instanceof NumericType);
            case MULTI_LABEL -> requireType(schema, label, "labelCol", "array<string> or string",
                    t -> t instanceof StringType || (t instanceof ArrayType a && a.elementType() instanceof StringType));
            default -> requireType(schema, label, "labelCol", "string, numeric or boolean",
                    t -> t instanceof StringType || t instanceof NumericType || t instanceof BooleanType);
        }
        String v = getOrDefault(validationIndicatorCol);
        if (!v.isEmpty()) requireType(schema, v, "validationIndicatorCol", "boolean", t -> t instanceof BooleanType);
        trainingArguments();
        return schema;
    }

    private static void requireType(StructType schema, String col, String param, String expected,
            java.util.function.Predicate<DataType> ok) {
        if (!Arrays.asList(schema.fieldNames()).contains(col)) {
            throw new IllegalArgumentException("TextClassifier: " + param + " '" + col + "' is not a column; columns: "
                    + Arrays.toString(schema.fieldNames()) + ". Set " + param + " to one of them");
        }
        DataType t = schema.apply(col).dataType();
        if (!ok.test(t)) {
            throw new IllegalArgumentException("TextClassifier: " + param + " '" + col + "' must be " + expected
                    + " but got " + t.catalogString());
        }
    }

    /** A fitted model and what the fit did. */
    public record FitResult(TextClassificationModel model, FitSummary summary) { }

    /**
     * What a distributed fit did: attempts, the checkpoints retries resumed from, the final train and eval metrics,
     * per-rank timings, and a fingerprint of the fit's job secret (fresh per fit).
     */
    public record FitSummary(String outputDir, int attempts, List<String> resumedFrom, String secretFingerprint,
                             Map<String, Object> trainMetrics, Map<String, Double> evalMetrics,
                             List<Map<String, Object>> workers) implements java.io.Serializable { }

    @Override
    public TextClassificationModel fit(Dataset<?> dataset) {
        return fitWithSummary(dataset).model();
    }

    /** {@link #fit} that also returns the {@link FitSummary}. */
    public FitResult fitWithSummary(Dataset<?> dataset) {
        transformSchema(dataset.schema(), true);
        String ref = getModel();
        try {
            ModelRefs.check(ref, false);
        } catch (IOException e) {
            throw new UncheckedIOException("TextClassifier: cannot load model '" + ref + "': " + e.getMessage(), e);
        }
        String problem = getOrDefault(problemType);
        LabelKind kind = switch (problem) {
            case MULTI_LABEL -> LabelKind.MULTI_LABEL;
            case REGRESSION -> LabelKind.REGRESSION;
            default -> LabelKind.SINGLE_LABEL;
        };
        Dataset<Row> rows = dataset.toDF().select(col(getInputCol()).as("text"),
                getInputPairCol().isEmpty() ? lit(null).cast(DataTypes.StringType).as("pair")
                        : col(getInputPairCol()).as("pair"),
                labelAsText(dataset.schema(), kind).as("label"),
                getOrDefault(validationIndicatorCol).isEmpty() ? lit(false).as("isEval")
                        : col(getOrDefault(validationIndicatorCol)).equalTo(true).as("isEval"));
        List<String> names = kind == LabelKind.REGRESSION ? List.of() : labelNames(rows, kind);
        DistributedTraining.Spec spec = new DistributedTraining.Spec(hfArgs(), ref, Task.SEQUENCE_CLASSIFICATION, kind,
                names, getOrDefault(mode), (Integer) getOrDefault(unfreezeLastLayers), getMaxLength(),
                (Integer) getOrDefault(numWorkers), (Integer) getOrDefault(maxAttempts),
                (Integer) getOrDefault(checkConsistencyEverySteps), getOrDefault(device));
        DistributedTraining.Summary s;
        try {
            s = DistributedTraining.run(rows, spec);
        } catch (IOException e) {
            throw new UncheckedIOException("TextClassifier: " + e.getMessage(), e);
        }
        List<Map<String, Object>> workers = new ArrayList<>();
        for (DistributedTraining.WorkerResult w : s.workers()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("rank", w.rank());
            m.put("host", w.host());
            m.put("pid", w.pid());
            m.put("seconds", w.seconds());
            m.putAll(w.trainMetrics());
            workers.add(m);
        }
        FitSummary summary = new FitSummary(s.outputDir(), s.attempts(), s.resumedFrom(), s.secretFingerprint(),
                s.trainMetrics(), s.evalMetrics(), workers);
        TextClassificationModel fitted = copyValues(new TextClassificationModel(uid()), ParamMap.empty())
                .setModel(s.outputDir()).setOutputCol(getOrDefault(predictionCol));
        fitted.setParent(this);
        return new FitResult(fitted, summary);
    }

    private Column labelAsText(StructType schema, LabelKind kind) {
        String label = getOrDefault(labelCol);
        DataType t = schema.apply(label).dataType();
        if (kind == LabelKind.MULTI_LABEL && t instanceof ArrayType) return concat_ws(",", col(label));
        if (kind == LabelKind.REGRESSION) return col(label).cast(DataTypes.DoubleType).cast(DataTypes.StringType);
        return col(label).cast(DataTypes.StringType);
    }

    private List<String> labelNames(Dataset<Row> rows, LabelKind kind) {
        String[] given = getOrDefault(labels);
        if (given.length > 0) return List.of(given);
        List<String> seen = new ArrayList<>();
        for (Row r : rows.filter("NOT isEval AND label IS NOT NULL").select("label").distinct().collectAsList()) {
            if (kind == LabelKind.MULTI_LABEL) seen.addAll(TrainingData.splitMulti(r.getString(0)));
            else seen.add(r.getString(0));
        }
        return LabelSpace.fromLabels(seen).names();
    }

    @Override
    public TextClassifier copy(ParamMap extra) {
        return defaultCopy(extra);
    }
}
