package io.sparkformers.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.sparkformers.nn.Task;
import io.sparkformers.nn.lora.LoraConfig;
import io.sparkformers.train.DataCollatorWithPadding.LabelKind;
import io.sparkformers.train.TrainingArguments;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.param.StringArrayParam;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.BooleanType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructType;

/**
 * The {@link FineTuningEstimator} of text, the Params {@link TextClassifier} and {@link TokenClassifier} share (MLlib's shared-Params pattern): the checkpoint,
 * maxLength, validationIndicatorCol, labels, the transfer mode, the distributed-run Params and every HF
 * TrainingArguments Param, declared once with their defaults; setters return the concrete estimator ({@code S}).
 * Also the HF TrainingArguments map the Params give and the schema checks both estimators make.
 *
 * @param <S> the concrete estimator, returned by the setters
 * @param <M> the fitted model
 */
abstract class TextFineTuningEstimator<S extends TextFineTuningEstimator<S, M>, M extends Model<M>>
        extends FineTuningEstimator<S, M> implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;

    private final Param<String> model;
    private final IntParam maxLength;
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

    // LoRA (PEFT LoraConfig); off while loraR is 0
    private final IntParam loraR;
    private final DoubleParam loraAlpha;
    private final DoubleParam loraDropout;
    private final BooleanParam loraUseRslora;
    private final StringArrayParam loraTargetModules;
    private final Param<String> loraTargetRegex;
    private final Param<String> loraBias;
    private final StringArrayParam loraModulesToSave;

    /** @param labelsDoc the labels Param's doc (class names or tags) */
    TextFineTuningEstimator(String uid, String labelsDoc) {
        super(uid); // first: Params read it
        model = new Param<>(
                this,
                "model",
                "the pretrained checkpoint: a Hugging Face folder, a Hadoop URI of one or a "
                        + "built-in alias such as all-MiniLM-L6-v2");
        maxLength = new IntParam(
                this,
                "maxLength",
                "tokens kept per row, special tokens included (> 0; capped by the " + "checkpoint's model_max_length)",
                ParamValidators.gt(0));
        validationIndicatorCol = new Param<>(
                this,
                "validationIndicatorCol",
                "boolean column marking evaluation rows " + "(true) apart from training rows; \"\" for none");
        labels = new StringArrayParam(this, "labels", labelsDoc);
        mode = new Param<>(
                this,
                "mode",
                "transfer mode: fine_tune (every weight), feature_extraction (frozen encoder, "
                        + "new head) or partial (head + unfreezeLastLayers)",
                ParamValidators.inArray(new String[] {"fine_tune", "feature_extraction", "partial"}));
        unfreezeLastLayers = new IntParam(
                this,
                "unfreezeLastLayers",
                "encoder layers trained under mode partial (>= 0)",
                ParamValidators.gtEq(0));
        numWorkers = new IntParam(
                this,
                "numWorkers",
                "training tasks, one model replica each, run together in one "
                        + "barrier stage (1..64; the cluster needs this many free task slots)",
                ParamValidators.inRange(1, 64));
        maxAttempts = new IntParam(
                this,
                "maxAttempts",
                "barrier jobs tried before the fit fails; each retry resumes "
                        + "from the latest complete checkpoint (>= 1)",
                ParamValidators.gtEq(1));
        checkConsistencyEverySteps = new IntParam(
                this,
                "checkConsistencyEverySteps",
                "steps between checks that every " + "replica holds the same weights (>= 0; 0 = never)",
                ParamValidators.gtEq(0));
        device = new Param<>(
                this,
                "device",
                "where replicas train: auto (the task's Spark GPU if it holds one, else " + "CPU), cpu, or gpu",
                ParamValidators.inArray(new String[] {Devices.AUTO, Devices.CPU, Devices.GPU}));

        outputDir = training(new Param<>(
                this,
                "outputDir",
                "HF output_dir: checkpoints, final model and reports; any " + "Hadoop file system path (required)"));
        overwriteOutputDir = training(new BooleanParam(
                this, "overwriteOutputDir", "HF overwrite_output_dir: allow a " + "non-empty outputDir"));
        numTrainEpochs = training(new DoubleParam(
                this,
                "numTrainEpochs",
                "HF num_train_epochs (> 0; ignored when " + "maxSteps > 0)",
                ParamValidators.gt(0)));
        maxSteps = training(new LongParam(
                this, "maxSteps", "HF max_steps: optimizer steps; > 0 overrides " + "numTrainEpochs, -1 for none"));
        perDeviceTrainBatchSize = training(new IntParam(
                this,
                "perDeviceTrainBatchSize",
                "HF "
                        + "per_device_train_batch_size: examples per replica per forward pass (> 0); the global batch is this "
                        + "× gradientAccumulationSteps × numWorkers",
                ParamValidators.gt(0)));
        perDeviceEvalBatchSize = training(new IntParam(
                this, "perDeviceEvalBatchSize", "HF per_device_eval_batch_size " + "(> 0)", ParamValidators.gt(0)));
        gradientAccumulationSteps = training(new IntParam(
                this, "gradientAccumulationSteps", "HF " + "gradient_accumulation_steps (> 0)", ParamValidators.gt(0)));
        learningRate = training(
                new DoubleParam(this, "learningRate", "HF learning_rate: peak rate (> 0)", ParamValidators.gt(0)));
        weightDecay = training(new DoubleParam(
                this,
                "weightDecay",
                "HF weight_decay (>= 0; not on biases and " + "LayerNorm)",
                ParamValidators.gtEq(0)));
        maxGradNorm = training(new DoubleParam(
                this,
                "maxGradNorm",
                "HF max_grad_norm: global-norm clipping (>= 0; 0 " + "disables)",
                ParamValidators.gtEq(0)));
        lrSchedulerType = training(new Param<>(
                this,
                "lrSchedulerType",
                "HF lr_scheduler_type (linear, cosine, " + "constant, constant_with_warmup, …)"));
        warmupRatio = training(
                new DoubleParam(this, "warmupRatio", "HF warmup_ratio, in [0, 1]", ParamValidators.inRange(0, 1)));
        warmupSteps = training(new LongParam(
                this, "warmupSteps", "HF warmup_steps (>= 0; wins over warmupRatio)", ParamValidators.gtEq(0)));
        loggingSteps = training(new DoubleParam(
                this,
                "loggingSteps",
                "HF logging_steps (> 0; < 1 is a ratio of the " + "total steps)",
                ParamValidators.gt(0)));
        evalStrategy = training(new Param<>(
                this, "evalStrategy", "HF eval_strategy: no, steps or epoch", ParamValidators.inArray(new String[] {
                    "no", "steps", "epoch"
                })));
        evalSteps = training(
                new DoubleParam(this, "evalSteps", "HF eval_steps (>= 0; 0 = loggingSteps)", ParamValidators.gtEq(0)));
        saveStrategy = training(new Param<>(
                this,
                "saveStrategy",
                "HF save_strategy: no, steps, epoch or best; a retry "
                        + "after a lost executor resumes from the latest checkpoint",
                ParamValidators.inArray(new String[] {"no", "steps", "epoch", "best"})));
        saveSteps = training(new DoubleParam(
                this,
                "saveSteps",
                "HF save_steps (> 0; < 1 is a ratio): at most this " + "much work is lost to an executor failure",
                ParamValidators.gt(0)));
        saveTotalLimit = training(new IntParam(
                this,
                "saveTotalLimit",
                "HF save_total_limit: checkpoints kept besides " + "the best (>= 0; 0 keeps all)",
                ParamValidators.gtEq(0)));
        loadBestModelAtEnd = training(new BooleanParam(this, "loadBestModelAtEnd", "HF load_best_model_at_end"));
        metricForBestModel = training(
                new Param<>(this, "metricForBestModel", "HF metric_for_best_model (\"\" for " + "HF's default, loss)"));
        optim = training(new Param<>(
                this, "optim", "HF optim: adamw_torch, adamw_hf or sgd", ParamValidators.inArray(new String[] {
                    "adamw_torch", "adamw_hf", "sgd"
                })));
        seed = training(new LongParam(this, "seed", "HF seed: new-head initialisation, data order, dropout"));
        dataloaderDropLast = training(new BooleanParam(this, "dataloaderDropLast", "HF dataloader_drop_last"));
        labelSmoothingFactor = training(new DoubleParam(
                this,
                "labelSmoothingFactor",
                "HF label_smoothing_factor, in " + "[0, 1)",
                ParamValidators.inRange(0, 1, true, false)));
        resumeFromCheckpoint = training(new Param<>(
                this,
                "resumeFromCheckpoint",
                "HF resume_from_checkpoint: a "
                        + "checkpoint folder (Hadoop path), true for the latest in outputDir, \"\" for none"));

        loraR = new IntParam(
                this,
                "loraR",
                "rank of a LoRA adapter trained instead of the model's weights (PEFT r; >= 0, 0 = no adapter: the "
                        + "mode decides what trains)",
                ParamValidators.gtEq(0));
        loraAlpha = new DoubleParam(
                this,
                "loraAlpha",
                "LoRA scale numerator: the update is scaled by loraAlpha / loraR (PEFT lora_alpha; > 0)",
                ParamValidators.gt(0));
        loraDropout = new DoubleParam(
                this,
                "loraDropout",
                "dropout on the LoRA adapter's input in training (PEFT lora_dropout; in [0, 1))",
                ParamValidators.inRange(0, 1, true, false));
        loraUseRslora = new BooleanParam(
                this,
                "loraUseRslora",
                "rank-stabilised LoRA: the update is scaled by loraAlpha / sqrt(loraR) (PEFT use_rslora)");
        loraTargetModules = new StringArrayParam(
                this,
                "loraTargetModules",
                "Linear modules the adapter wraps, matched as PEFT does: a module path equal to a name or ending "
                        + "with '.' + name (PEFT target_modules as a list; ignored when loraTargetRegex is set)");
        loraTargetRegex = new Param<>(
                this,
                "loraTargetRegex",
                "a regex every adapted module path matches in full (PEFT target_modules as a string); \"\" uses "
                        + "loraTargetModules");
        loraBias = new Param<>(
                this,
                "loraBias",
                "biases trained with the adapter: none, all, or lora_only (those of adapted layers; PEFT bias)",
                ParamValidators.inArray(new String[] {"none", "all", "lora_only"}));
        loraModulesToSave = new StringArrayParam(
                this,
                "loraModulesToSave",
                "modules trained in full beside the adapter and saved with it (PEFT modules_to_save; the "
                        + "classifier is always among them, as PEFT adds it for classification)");

        setDefault(maxLength, 128);
        setDefault(loraR, 0);
        setDefault(loraAlpha, 8.0);
        setDefault(loraDropout, 0.0);
        setDefault(loraUseRslora, false);
        setDefault(loraTargetModules, LoraConfig.BERT_TARGETS.toArray(new String[0]));
        setDefault(loraTargetRegex, "");
        setDefault(loraBias, "none");
        setDefault(loraModulesToSave, new String[0]);
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

    private <P extends Param<?>> P training(P p) {
        trainingParams.add(p);
        return p;
    }

    // ------------------------------------------------------------------------------------------ Params

    public IntParam loraR() {
        return loraR;
    }

    public DoubleParam loraAlpha() {
        return loraAlpha;
    }

    public DoubleParam loraDropout() {
        return loraDropout;
    }

    public BooleanParam loraUseRslora() {
        return loraUseRslora;
    }

    public S setLoraUseRslora(boolean v) {
        set(loraUseRslora, v);
        return self();
    }

    public StringArrayParam loraTargetModules() {
        return loraTargetModules;
    }

    public Param<String> loraTargetRegex() {
        return loraTargetRegex;
    }

    public Param<String> loraBias() {
        return loraBias;
    }

    public StringArrayParam loraModulesToSave() {
        return loraModulesToSave;
    }

    public S setLoraR(int v) {
        set(loraR, v);
        return self();
    }

    public S setLoraAlpha(double v) {
        set(loraAlpha, v);
        return self();
    }

    public S setLoraDropout(double v) {
        set(loraDropout, v);
        return self();
    }

    public S setLoraTargetModules(String[] v) {
        set(loraTargetModules, v);
        return self();
    }

    public S setLoraTargetRegex(String v) {
        set(loraTargetRegex, v);
        return self();
    }

    public S setLoraBias(String v) {
        set(loraBias, v);
        return self();
    }

    public S setLoraModulesToSave(String[] v) {
        set(loraModulesToSave, v);
        return self();
    }

    /** Sets the LoRA Params from PEFT's {@code LoraConfig} (the inverse of {@link #loraConfig}); null: nothing. */
    public S setLora(LoraConfig l) {
        if (l == null) return self();
        setLoraR(l.r())
                .setLoraAlpha(l.loraAlpha())
                .setLoraDropout(l.loraDropout())
                .setLoraUseRslora(l.useRslora())
                .setLoraBias(l.bias().peftName());
        setLoraModulesToSave(l.modulesToSave().toArray(new String[0]));
        return l.targetRegex() != null
                ? setLoraTargetRegex(l.targetRegex())
                : setLoraTargetModules(l.targetModules().toArray(new String[0]));
    }

    /** The LoRA adapter these Params ask for, or null when {@code loraR} is 0 (validated: fails before any job). */
    public LoraConfig loraConfig() {
        int r = (Integer) getOrDefault(loraR);
        if (r == 0) return null;
        if (!"fine_tune".equals(getOrDefault(mode))) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": a LoRA fit (loraR " + r + ") keeps "
                    + "the base frozen and trains the adapter and head: leave mode fine_tune, not "
                    + getOrDefault(mode));
        }
        String regex = getOrDefault(loraTargetRegex);
        return new LoraConfig(
                r,
                (Double) getOrDefault(loraAlpha),
                (Double) getOrDefault(loraDropout),
                regex.isEmpty() ? Arrays.asList(getOrDefault(loraTargetModules)) : null,
                regex.isEmpty() ? null : regex,
                LoraConfig.Bias.of(getOrDefault(loraBias)),
                Arrays.asList(getOrDefault(loraModulesToSave)),
                null,
                null,
                (Boolean) getOrDefault(loraUseRslora));
    }

    public Param<String> model() {
        return model;
    }

    public IntParam maxLength() {
        return maxLength;
    }

    public Param<String> validationIndicatorCol() {
        return validationIndicatorCol;
    }

    public StringArrayParam labels() {
        return labels;
    }

    public Param<String> mode() {
        return mode;
    }

    public IntParam unfreezeLastLayers() {
        return unfreezeLastLayers;
    }

    public IntParam numWorkers() {
        return numWorkers;
    }

    public IntParam maxAttempts() {
        return maxAttempts;
    }

    public IntParam checkConsistencyEverySteps() {
        return checkConsistencyEverySteps;
    }

    public Param<String> device() {
        return device;
    }

    public Param<String> outputDir() {
        return outputDir;
    }

    public BooleanParam overwriteOutputDir() {
        return overwriteOutputDir;
    }

    public DoubleParam numTrainEpochs() {
        return numTrainEpochs;
    }

    public LongParam maxSteps() {
        return maxSteps;
    }

    public IntParam perDeviceTrainBatchSize() {
        return perDeviceTrainBatchSize;
    }

    public IntParam perDeviceEvalBatchSize() {
        return perDeviceEvalBatchSize;
    }

    public IntParam gradientAccumulationSteps() {
        return gradientAccumulationSteps;
    }

    public DoubleParam learningRate() {
        return learningRate;
    }

    public DoubleParam weightDecay() {
        return weightDecay;
    }

    public DoubleParam maxGradNorm() {
        return maxGradNorm;
    }

    public Param<String> lrSchedulerType() {
        return lrSchedulerType;
    }

    public DoubleParam warmupRatio() {
        return warmupRatio;
    }

    public LongParam warmupSteps() {
        return warmupSteps;
    }

    public DoubleParam loggingSteps() {
        return loggingSteps;
    }

    public Param<String> evalStrategy() {
        return evalStrategy;
    }

    public DoubleParam evalSteps() {
        return evalSteps;
    }

    public Param<String> saveStrategy() {
        return saveStrategy;
    }

    public DoubleParam saveSteps() {
        return saveSteps;
    }

    public IntParam saveTotalLimit() {
        return saveTotalLimit;
    }

    public BooleanParam loadBestModelAtEnd() {
        return loadBestModelAtEnd;
    }

    public Param<String> metricForBestModel() {
        return metricForBestModel;
    }

    public Param<String> optim() {
        return optim;
    }

    public LongParam seed() {
        return seed;
    }

    public BooleanParam dataloaderDropLast() {
        return dataloaderDropLast;
    }

    public DoubleParam labelSmoothingFactor() {
        return labelSmoothingFactor;
    }

    public Param<String> resumeFromCheckpoint() {
        return resumeFromCheckpoint;
    }

    public String getModel() {
        return isDefined(model) ? getOrDefault(model) : null;
    }

    public int getMaxLength() {
        return (Integer) getOrDefault(maxLength);
    }

    public S setModel(String v) {
        set(model, v);
        return self();
    }

    public S setMaxLength(int v) {
        set(maxLength, v);
        return self();
    }

    public S setValidationIndicatorCol(String v) {
        set(validationIndicatorCol, v);
        return self();
    }

    public S setLabels(String... v) {
        set(labels, v);
        return self();
    }

    public S setMode(String v) {
        set(mode, v);
        return self();
    }

    public S setUnfreezeLastLayers(int v) {
        set(unfreezeLastLayers, v);
        return self();
    }

    public S setNumWorkers(int v) {
        set(numWorkers, v);
        return self();
    }

    public S setMaxAttempts(int v) {
        set(maxAttempts, v);
        return self();
    }

    public S setCheckConsistencyEverySteps(int v) {
        set(checkConsistencyEverySteps, v);
        return self();
    }

    public S setDevice(String v) {
        set(device, v);
        return self();
    }

    public S setOutputDir(String v) {
        set(outputDir, v);
        return self();
    }

    public S setOverwriteOutputDir(boolean v) {
        set(overwriteOutputDir, v);
        return self();
    }

    public S setNumTrainEpochs(double v) {
        set(numTrainEpochs, v);
        return self();
    }

    public S setMaxSteps(long v) {
        set(maxSteps, v);
        return self();
    }

    public S setPerDeviceTrainBatchSize(int v) {
        set(perDeviceTrainBatchSize, v);
        return self();
    }

    public S setPerDeviceEvalBatchSize(int v) {
        set(perDeviceEvalBatchSize, v);
        return self();
    }

    public S setGradientAccumulationSteps(int v) {
        set(gradientAccumulationSteps, v);
        return self();
    }

    public S setLearningRate(double v) {
        set(learningRate, v);
        return self();
    }

    public S setWeightDecay(double v) {
        set(weightDecay, v);
        return self();
    }

    public S setMaxGradNorm(double v) {
        set(maxGradNorm, v);
        return self();
    }

    public S setLrSchedulerType(String v) {
        set(lrSchedulerType, v);
        return self();
    }

    public S setWarmupRatio(double v) {
        set(warmupRatio, v);
        return self();
    }

    public S setWarmupSteps(long v) {
        set(warmupSteps, v);
        return self();
    }

    public S setLoggingSteps(double v) {
        set(loggingSteps, v);
        return self();
    }

    public S setEvalStrategy(String v) {
        set(evalStrategy, v);
        return self();
    }

    public S setEvalSteps(double v) {
        set(evalSteps, v);
        return self();
    }

    public S setSaveStrategy(String v) {
        set(saveStrategy, v);
        return self();
    }

    public S setSaveSteps(double v) {
        set(saveSteps, v);
        return self();
    }

    public S setSaveTotalLimit(int v) {
        set(saveTotalLimit, v);
        return self();
    }

    public S setLoadBestModelAtEnd(boolean v) {
        set(loadBestModelAtEnd, v);
        return self();
    }

    public S setMetricForBestModel(String v) {
        set(metricForBestModel, v);
        return self();
    }

    public S setOptim(String v) {
        set(optim, v);
        return self();
    }

    public S setSeed(long v) {
        set(seed, v);
        return self();
    }

    public S setDataloaderDropLast(boolean v) {
        set(dataloaderDropLast, v);
        return self();
    }

    public S setLabelSmoothingFactor(double v) {
        set(labelSmoothingFactor, v);
        return self();
    }

    public S setResumeFromCheckpoint(String v) {
        set(resumeFromCheckpoint, v);
        return self();
    }

    /**
     * Sets the training Params from HF TrainingArguments names ({@code learning_rate} → {@code learningRate}), e.g. a
     * finetune YAML config's {@code training:} section. An HF key this stage has no Param for is an error naming the
     * supported keys.
     */
    public S setTrainingArguments(Map<String, ?> hf) {
        for (Map.Entry<String, ?> e : hf.entrySet()) {
            Param<?> p = null;
            for (Param<?> q : trainingParams) if (snake(q.name()).equals(e.getKey())) p = q;
            if (p == null) {
                List<String> names = new ArrayList<>();
                for (Param<?> q : trainingParams) names.add(snake(q.name()));
                throw new IllegalArgumentException("training argument '" + e.getKey() + "' has no "
                        + getClass().getSimpleName() + " Param; " + "supported: " + names);
            }
            set(p.name(), coerce(p, e.getValue()));
        }
        return self();
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

    final Map<String, Object> hfArgs() {
        if (!isDefined(outputDir)) {
            throw new IllegalArgumentException(
                    getClass().getSimpleName() + ": outputDir is not set: set it to the folder (any Hadoop "
                            + "path) for checkpoints and the fine-tuned model");
        }
        Map<String, Object> m = new LinkedHashMap<>();
        for (Param<?> p : trainingParams) {
            Object v = getOrDefault(p);
            String key = snake(p.name());
            if ("".equals(v)
                    || (Double.valueOf(0.0).equals(v) && key.equals("eval_steps"))
                    || (Integer.valueOf(0).equals(v) && key.equals("save_total_limit"))) {
                v = null;
            }
            m.put(key, v);
        }
        m.put("report_to", List.of("jsonl"));
        return m;
    }

    /** The distributed run these Params give: the shared Params copied into plain values, for {@code task}. */
    final DistributedTraining.Spec spec(String ref, Task task, LabelKind kind, List<String> names) {
        return new DistributedTraining.Spec(
                hfArgs(),
                ref,
                task,
                kind,
                names,
                getOrDefault(mode),
                (Integer) getOrDefault(unfreezeLastLayers),
                getMaxLength(),
                (Integer) getOrDefault(numWorkers),
                (Integer) getOrDefault(maxAttempts),
                (Integer) getOrDefault(checkConsistencyEverySteps),
                getOrDefault(device),
                false,
                false,
                callbacks(),
                DistributedTraining.TaskOptions.DEFAULTS.withLora(loraConfig()));
    }

    // ------------------------------------------------------------------------------------------ the fit's steps

    /** The model Param, checked before any job: a checkpoint that cannot load fails naming this estimator and it. */
    final String checkedModel() {
        String ref = getModel();
        try {
            ModelRefs.check(ref, false);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    getClass().getSimpleName() + ": cannot load model '" + ref + "': " + e.getMessage(), e);
        }
        return ref;
    }

    /** The Trainer rows' {@code isEval} column: validationIndicatorCol is true (no such Param set: every row trains). */
    final Column isEvalColumn() {
        String validation = getOrDefault(validationIndicatorCol);
        return (validation.isEmpty() ? lit(false) : col(validation).equalTo(true)).as("isEval");
    }

    /**
     * Runs the distributed fit of the Trainer's rows (text, pair, label, isEval; {@link DistributedTraining#run}) as
     * {@code spec}; an I/O failure names this estimator.
     */
    final DistributedTraining.Summary train(Dataset<Row> rows, DistributedTraining.Spec spec) {
        try {
            return DistributedTraining.run(rows, spec);
        } catch (IOException e) {
            throw new UncheckedIOException(getClass().getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    /** MLlib's end of a fit: {@code model} with this estimator's Params copied into it and this as its parent. */
    final M asFitted(M model) {
        copyValues(model, ParamMap.empty());
        model.setParent(this);
        return model;
    }

    // ------------------------------------------------------------------------------------------ schema checks

    /** The check both estimators make first: the model Param is set. */
    final void requireModel() {
        if (getModel() == null) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": the model Param is not set: give the "
                    + "pretrained checkpoint (folder, Hadoop URI or alias)");
        }
    }

    /** The checks both estimators make last: the validation column is boolean, the training arguments are valid. */
    final void requireValidationAndTrainingArguments(StructType schema) {
        String v = getOrDefault(validationIndicatorCol);
        if (!v.isEmpty()) requireType(schema, v, "validationIndicatorCol", "boolean", t -> t instanceof BooleanType);
        trainingArguments();
        loraConfig();
    }

    final void requireType(
            StructType schema, String col, String param, String expected, java.util.function.Predicate<DataType> ok) {
        if (!Arrays.asList(schema.fieldNames()).contains(col)) {
            throw new IllegalArgumentException(
                    getClass().getSimpleName() + ": " + param + " '" + col + "' is not a column; columns: "
                            + Arrays.toString(schema.fieldNames()) + ". Set " + param + " to one of them");
        }
        DataType t = schema.apply(col).dataType();
        if (!ok.test(t)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": " + param + " '" + col + "' must be "
                    + expected + " but got " + t.catalogString());
        }
    }
}
