package io.sparkformers.spark;

import io.sparkformers.nn.Task;
import io.sparkformers.train.DataCollatorWithPadding.LabelKind;
import io.sparkformers.train.LabelSpace;
import io.sparkformers.train.TrainingArguments;
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
import static org.apache.spark.sql.functions.exists;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.size;

/**
 * HF's {@code Trainer} for token classification (NER, IOB2 tags) as a Spark ML Estimator: fine-tunes a pretrained
 * checkpoint on rows of words ({@code tokensCol}, {@code array<string>}) and one tag per word ({@code tagsCol},
 * {@code array<string>}) across {@code numWorkers} Spark tasks ({@link DistributedTraining}), and returns a
 * {@link TokenClassificationModel} over the fine-tuned checkpoint (HF layout, in {@code outputDir}; its config's
 * {@code id2label} is the tag set) that reads raw text from {@code inputCol}. Words are tokenized as HF's
 * {@code is_split_into_words=True}; labels go to each word's first sub-token, -100 elsewhere (HF's
 * {@code tokenize_and_align_labels}). The training Params are {@link TextClassifier}'s (HF TrainingArguments).
 * Rows are checked before training: null or empty words, words holding whitespace, and word/tag count mismatches fail
 * the fit naming the row.
 */
public final class TokenClassifier extends Estimator<TokenClassificationModel> implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;

    private final String uid;
    private final Param<String> model;
    private final IntParam maxLength;
    private final Param<String> tokensCol;
    private final Param<String> tagsCol;
    private final Param<String> inputCol;
    private final Param<String> outputCol;
    private final Param<String> validationIndicatorCol;
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

    public TokenClassifier(String uid) {
        this.uid = uid;                                   // first: Params read it
        model = new Param<>(this, "model", "the pretrained checkpoint: a Hugging Face folder, a Hadoop URI of one or a "
                + "built-in alias such as all-MiniLM-L6-v2");
        maxLength = new IntParam(this, "maxLength", "tokens kept per row, special tokens included (> 0; capped by the "
                + "checkpoint's model_max_length)", ParamValidators.gt(0));
        tokensCol = new Param<>(this, "tokensCol", "array<string> column of words (no whitespace inside a word)");
        tagsCol = new Param<>(this, "tagsCol", "array<string> column of tags, one IOB2 tag per word (B-PER, I-PER, O)");
        inputCol = new Param<>(this, "inputCol", "the fitted model's input: string column of raw text");
        outputCol = new Param<>(this, "outputCol", "the fitted model's output column: "
                + "array<struct<entity_group,score,start,end,word>>");
        validationIndicatorCol = new Param<>(this, "validationIndicatorCol", "boolean column marking evaluation rows "
                + "(true) apart from training rows; \"\" for none");
        labels = new StringArrayParam(this, "labels", "tags in id order (the config's id2label); empty: the sorted "
                + "distinct tags of the training rows (one extra job)");
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
        setDefault(tokensCol, "tokens");
        setDefault(tagsCol, "tags");
        setDefault(inputCol, "text");
        setDefault(outputCol, "entities");
        setDefault(validationIndicatorCol, "");
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

    public TokenClassifier() {
        this(Identifiable$.MODULE$.randomUID("tokenClassifier"));
    }

    private <P extends Param<?>> P training(P p) {
        trainingParams.add(p);
        return p;
    }

    @Override
    public String uid() {
        return uid;
    }

    public static MLReader<TokenClassifier> read() {
        return new DefaultParamsReader<>();
    }

    public static TokenClassifier load(String path) {
        return read().load(path);
    }

    // ------------------------------------------------------------------------------------------ Params

    public Param<String> model() { return model; }
    public IntParam maxLength() { return maxLength; }
    public Param<String> tokensCol() { return tokensCol; }
    public Param<String> tagsCol() { return tagsCol; }
    public Param<String> inputCol() { return inputCol; }
    public Param<String> outputCol() { return outputCol; }
    public Param<String> validationIndicatorCol() { return validationIndicatorCol; }
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

    public TokenClassifier setModel(String v) { set(model, v); return this; }
    public TokenClassifier setMaxLength(int v) { set(maxLength, v); return this; }
    public TokenClassifier setTokensCol(String v) { set(tokensCol, v); return this; }
    public TokenClassifier setTagsCol(String v) { set(tagsCol, v); return this; }
    public TokenClassifier setInputCol(String v) { set(inputCol, v); return this; }
    public TokenClassifier setOutputCol(String v) { set(outputCol, v); return this; }
    public TokenClassifier setValidationIndicatorCol(String v) { set(validationIndicatorCol, v); return this; }
    public TokenClassifier setLabels(String... v) { set(labels, v); return this; }
    public TokenClassifier setMode(String v) { set(mode, v); return this; }
    public TokenClassifier setUnfreezeLastLayers(int v) { set(unfreezeLastLayers, v); return this; }
    public TokenClassifier setNumWorkers(int v) { set(numWorkers, v); return this; }
    public TokenClassifier setMaxAttempts(int v) { set(maxAttempts, v); return this; }
    public TokenClassifier setCheckConsistencyEverySteps(int v) { set(checkConsistencyEverySteps, v); return this; }
    public TokenClassifier setDevice(String v) { set(device, v); return this; }

    public String getModel() { return isDefined(model) ? getOrDefault(model) : null; }
    public int getMaxLength() { return (Integer) getOrDefault(maxLength); }
    public TokenClassifier setOutputDir(String v) { set(outputDir, v); return this; }
    public TokenClassifier setOverwriteOutputDir(boolean v) { set(overwriteOutputDir, v); return this; }
    public TokenClassifier setNumTrainEpochs(double v) { set(numTrainEpochs, v); return this; }
    public TokenClassifier setMaxSteps(long v) { set(maxSteps, v); return this; }
    public TokenClassifier setPerDeviceTrainBatchSize(int v) { set(perDeviceTrainBatchSize, v); return this; }
    public TokenClassifier setPerDeviceEvalBatchSize(int v) { set(perDeviceEvalBatchSize, v); return this; }
    public TokenClassifier setGradientAccumulationSteps(int v) { set(gradientAccumulationSteps, v); return this; }
    public TokenClassifier setLearningRate(double v) { set(learningRate, v); return this; }
    public TokenClassifier setWeightDecay(double v) { set(weightDecay, v); return this; }
    public TokenClassifier setMaxGradNorm(double v) { set(maxGradNorm, v); return this; }
    public TokenClassifier setLrSchedulerType(String v) { set(lrSchedulerType, v); return this; }
    public TokenClassifier setWarmupRatio(double v) { set(warmupRatio, v); return this; }
    public TokenClassifier setWarmupSteps(long v) { set(warmupSteps, v); return this; }
    public TokenClassifier setLoggingSteps(double v) { set(loggingSteps, v); return this; }
    public TokenClassifier setEvalStrategy(String v) { set(evalStrategy, v); return this; }
    public TokenClassifier setEvalSteps(double v) { set(evalSteps, v); return this; }
    public TokenClassifier setSaveStrategy(String v) { set(saveStrategy, v); return this; }
    public TokenClassifier setSaveSteps(double v) { set(saveSteps, v); return this; }
    public TokenClassifier setSaveTotalLimit(int v) { set(saveTotalLimit, v); return this; }
    public TokenClassifier setLoadBestModelAtEnd(boolean v) { set(loadBestModelAtEnd, v); return this; }
    public TokenClassifier setMetricForBestModel(String v) { set(metricForBestModel, v); return this; }
    public TokenClassifier setOptim(String v) { set(optim, v); return this; }
    public TokenClassifier setSeed(long v) { set(seed, v); return this; }
    public TokenClassifier setDataloaderDropLast(boolean v) { set(dataloaderDropLast, v); return this; }
    public TokenClassifier setLabelSmoothingFactor(double v) { set(labelSmoothingFactor, v); return this; }
    public TokenClassifier setResumeFromCheckpoint(String v) { set(resumeFromCheckpoint, v); return this; }

    /**
     * Sets the training Params from HF TrainingArguments names ({@code learning_rate} → {@code learningRate}), e.g. a
     * finetune YAML config's {@code training:} section. An HF key this stage has no Param for is an error naming the
     * supported keys.
     */
    public TokenClassifier setTrainingArguments(Map<String, ?> hf) {
        for (Map.Entry<String, ?> e : hf.entrySet()) {
            Param<?> p = null;
            for (Param<?> q : trainingParams) if (snake(q.name()).equals(e.getKey())) p = q;
            if (p == null) {
                List<String> names = new ArrayList<>();
                for (Param<?> q : trainingParams) names.add(snake(q.name()));
                throw new IllegalArgumentException("training argument '" + e.getKey() + "' has no TokenClassifier Param; "
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
            throw new IllegalArgumentException("TokenClassifier: outputDir is not set: set it to the folder (any Hadoop "
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
            throw new IllegalArgumentException("TokenClassifier: the model Param is not set: give the pretrained "
                    + "checkpoint (folder, Hadoop URI or alias)");
        }
        requireType(schema, getOrDefault(tokensCol), "tokensCol", "array<string>", TokenClassifier::stringArray);
        requireType(schema, getOrDefault(tagsCol), "tagsCol", "array<string>", TokenClassifier::stringArray);
        String v = getOrDefault(validationIndicatorCol);
        if (!v.isEmpty()) requireType(schema, v, "validationIndicatorCol", "boolean", t -> t instanceof BooleanType);
        trainingArguments();
        return schema;
    }

    private static boolean stringArray(DataType t) {
        return t instanceof ArrayType a && a.elementType() instanceof StringType;
    }

    private static void requireType(StructType schema, String col, String param, String expected,
            java.util.function.Predicate<DataType> ok) {
        if (!Arrays.asList(schema.fieldNames()).contains(col)) {
            throw new IllegalArgumentException("TokenClassifier: " + param + " '" + col + "' is not a column; columns: "
                    + Arrays.toString(schema.fieldNames()) + ". Set " + param + " to one of them");
        }
        DataType t = schema.apply(col).dataType();
        if (!ok.test(t)) {
            throw new IllegalArgumentException("TokenClassifier: " + param + " '" + col + "' must be " + expected
                    + " but got " + t.catalogString());
        }
    }

    /** A fitted model and what the fit did. */
    public record FitResult(TokenClassificationModel model, TextClassifier.FitSummary summary) { }

    @Override
    public TokenClassificationModel fit(Dataset<?> dataset) {
        return fitWithSummary(dataset).model();
    }

    /** {@link #fit} that also returns the {@link TextClassifier.FitSummary}. */
    public FitResult fitWithSummary(Dataset<?> dataset) {
        transformSchema(dataset.schema(), true);
        String ref = getModel();
        try {
            ModelRefs.check(ref, false);
        } catch (IOException e) {
            throw new UncheckedIOException("TokenClassifier: cannot load model '" + ref + "': " + e.getMessage(), e);
        }
        String words = getOrDefault(tokensCol);
        String tags = getOrDefault(tagsCol);
        Dataset<Row> df = dataset.toDF();
        checkRows(df, words, tags);
        // The Trainer's TOKEN rows: whitespace-separated words as the text, one tag per word as the label.
        Dataset<Row> rows = df.select(concat_ws(" ", col(words)).as("text"),
                lit(null).cast(DataTypes.StringType).as("pair"), concat_ws(" ", col(tags)).as("label"),
                getOrDefault(validationIndicatorCol).isEmpty() ? lit(false).as("isEval")
                        : col(getOrDefault(validationIndicatorCol)).equalTo(true).as("isEval"));
        List<String> names = tagNames(df, tags);
        DistributedTraining.Spec spec = new DistributedTraining.Spec(hfArgs(), ref, Task.TOKEN_CLASSIFICATION,
                LabelKind.TOKEN, names, getOrDefault(mode), (Integer) getOrDefault(unfreezeLastLayers), getMaxLength(),
                (Integer) getOrDefault(numWorkers), (Integer) getOrDefault(maxAttempts),
                (Integer) getOrDefault(checkConsistencyEverySteps), getOrDefault(device));
        DistributedTraining.Summary s;
        try {
            s = DistributedTraining.run(rows, spec);
        } catch (IOException e) {
            throw new UncheckedIOException("TokenClassifier: " + e.getMessage(), e);
        }
        TokenClassificationModel fitted = copyValues(new TokenClassificationModel(uid()), ParamMap.empty())
                .setModel(s.outputDir());
        fitted.setParent(this);
        return new FitResult(fitted, TextClassifier.summaryOf(s));
    }

    /**
     * One job before training: the first row (in dataset order) with null words or tags, an empty or whitespace-holding
     * word (words are re-split on whitespace by the featurizer), or a word/tag count mismatch fails the fit, named by
     * its contents.
     */
    private static void checkRows(Dataset<Row> df, String words, String tags) {
        Column bad = col(words).isNull().or(col(tags).isNull())
                .or(size(col(words)).notEqual(size(col(tags))))
                .or(size(col(words)).equalTo(0))
                .or(exists(col(words), w -> w.isNull().or(w.rlike("^$|\\s"))))
                .or(exists(col(tags), t -> t.isNull().or(t.rlike("^$|\\s"))));
        List<Row> found = df.filter(bad).select(col(words), col(tags)).limit(1).collectAsList();
        if (found.isEmpty()) return;
        Row r = found.get(0);
        List<Object> w = r.isNullAt(0) ? null : r.getList(0);
        List<Object> t = r.isNullAt(1) ? null : r.getList(1);
        String what;
        if (w == null || t == null) what = (w == null ? "tokensCol" : "tagsCol") + " is null";
        else if (w.size() != t.size()) what = w.size() + " words but " + t.size() + " tags: one tag per word needed";
        else if (w.isEmpty()) what = "no words";
        else what = "a null, empty or whitespace-holding word or tag";
        throw new IllegalArgumentException("TokenClassifier: bad row (words " + w + ", tags " + t
                + "): " + what);
    }

    private List<String> tagNames(Dataset<Row> df, String tags) {
        String[] given = getOrDefault(labels);
        if (given.length > 0) return List.of(given);
        Dataset<Row> train = getOrDefault(validationIndicatorCol).isEmpty() ? df
                : df.filter(not(col(getOrDefault(validationIndicatorCol)).equalTo(true)));
        List<String> seen = new ArrayList<>();
        for (Row r : train.select(explode(col(tags))).distinct().collectAsList()) seen.add(r.getString(0));
        return LabelSpace.fromLabels(seen).names();
    }

    @Override
    public TokenClassifier copy(ParamMap extra) {
        return defaultCopy(extra);
    }
}
