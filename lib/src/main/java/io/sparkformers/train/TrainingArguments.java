package io.sparkformers.train;

import ai.djl.Device;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import io.sparkformers.train.TrainingArgumentKeys.Default;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The subset of HF {@code transformers.TrainingArguments} the Sparkformers Trainer implements, with HF's names (on
 * disk) and defaults, and the derived defaults and checks of HF's {@code __post_init__}: {@code eval_steps} falls back
 * to {@code logging_steps}, {@code metric_for_best_model} to {@code "loss"} under {@code load_best_model_at_end},
 * {@code greater_is_better} to "not a loss". Like HF, the record holds the resolved values, and {@link #toJson()}
 * writes them.
 *
 * <p>Every violation is reported at construction, all at once, each line naming the key and the fix, so a bad
 * configuration fails before any data is read.
 *
 * <p>Differences from HF, on purpose: {@code output_dir} is required; {@code report_to} supports {@code jsonl} (our
 * {@code log_history.jsonl}, the default here where HF's is {@code "all"}) and {@code none}; {@code optim} supports
 * {@code adamw_torch}, {@code adamw_hf} (the same math here) and {@code sgd}; {@code resume_from_checkpoint} may be
 * {@code "true"} for "the latest checkpoint in output_dir" (HF's {@code Trainer.train(resume_from_checkpoint=True)}).
 * {@code logging_steps}, {@code eval_steps} and {@code save_steps} below 1 are ratios of the total steps, as in HF.
 *
 * <p>Each key is declared once, as a record component below: its HF name is the component's name in snake_case, its
 * default the {@link Default} beside it (in the text {@code --set} takes; none means null), its type the component's.
 * The key table, the builder, JSON/YAML loading and {@link #toMap()} all derive from these components, in HF's field
 * order.
 *
 * @param outputDir                 where checkpoints and logs go (HF {@code output_dir}, required)
 * @param overwriteOutputDir        allow a non-empty output_dir (HF {@code overwrite_output_dir})
 * @param evalStrategy              "no", "steps" or "epoch" (HF {@code eval_strategy}, formerly {@code
 *                                  evaluation_strategy})
 * @param perDeviceTrainBatchSize   examples per replica per forward pass (HF {@code per_device_train_batch_size})
 * @param perDeviceEvalBatchSize    examples per evaluation batch (HF {@code per_device_eval_batch_size})
 * @param gradientAccumulationSteps forward passes per optimizer step (HF {@code gradient_accumulation_steps})
 * @param learningRate              peak learning rate, > 0 (HF {@code learning_rate})
 * @param weightDecay               decoupled decay, not applied to biases and LayerNorm (HF {@code weight_decay})
 * @param adamBeta1                 (HF {@code adam_beta1})
 * @param adamBeta2                 (HF {@code adam_beta2})
 * @param adamEpsilon               (HF {@code adam_epsilon})
 * @param maxGradNorm               global-norm clipping threshold, 0 disables (HF {@code max_grad_norm})
 * @param numTrainEpochs            epochs, may be fractional; ignored when maxSteps > 0 (HF {@code num_train_epochs})
 * @param maxSteps                  optimizer steps; > 0 overrides numTrainEpochs (HF {@code max_steps})
 * @param lrSchedulerType           one of {@link LrSchedules#NAMES} (HF {@code lr_scheduler_type})
 * @param warmupRatio               warm-up as a fraction of total steps, in [0, 1] (HF {@code warmup_ratio})
 * @param warmupSteps               linear warm-up steps; > 0 wins over the ratio (HF {@code warmup_steps})
 * @param loggingStrategy           "no", "steps" or "epoch" (HF {@code logging_strategy})
 * @param loggingFirstStep          also log after step 1 (HF {@code logging_first_step})
 * @param loggingSteps              steps between logs, or a ratio of total steps if < 1 (HF {@code logging_steps})
 * @param saveStrategy              "no", "steps", "epoch" or "best" (HF {@code save_strategy})
 * @param saveSteps                 steps between checkpoints, or a ratio if < 1 (HF {@code save_steps})
 * @param saveTotalLimit            checkpoints kept besides the best; null or <= 0 keeps all (HF {@code
 *                                  save_total_limit})
 * @param seed                      model initialisation and dropout seed (HF {@code seed})
 * @param dataSeed                  data shuffling seed; null means seed (HF {@code data_seed})
 * @param fp16                      mixed precision, GPU only (HF {@code fp16})
 * @param dataloaderDropLast        drop the last incomplete batch (HF {@code dataloader_drop_last})
 * @param evalSteps                 steps between evaluations; null means loggingSteps (HF {@code eval_steps})
 * @param loadBestModelAtEnd        (HF {@code load_best_model_at_end})
 * @param metricForBestModel        metric name with or without "eval_" (HF {@code metric_for_best_model})
 * @param greaterIsBetter           null: false for names ending in "loss" (HF {@code greater_is_better})
 * @param labelSmoothingFactor      in [0, 1) (HF {@code label_smoothing_factor})
 * @param optim                     "adamw_torch", "adamw_hf" or "sgd" (HF {@code optim})
 * @param groupByLength             batch examples of similar length together (HF {@code group_by_length})
 * @param reportTo                  ["jsonl"] or [] (HF {@code report_to}; "none" reads as [])
 * @param resumeFromCheckpoint      a checkpoint folder, "true" for the latest one, or null (HF {@code
 *                                  resume_from_checkpoint})
 * @param gradientCheckpointing     recompute each encoder/decoder layer's activations in backward instead of keeping
 *                                  them: less memory, about one more forward pass of time (HF {@code
 *                                  gradient_checkpointing}; see {@link io.sparkformers.nn.GradientCheckpointing})
 */
public record TrainingArguments(
        String outputDir,
        @Default("false") boolean overwriteOutputDir,
        @Default("no") String evalStrategy,
        @Default("8") int perDeviceTrainBatchSize,
        @Default("8") int perDeviceEvalBatchSize,
        @Default("1") int gradientAccumulationSteps,
        @Default("5e-5") double learningRate,
        @Default("0.0") double weightDecay,
        @Default("0.9") double adamBeta1,
        @Default("0.999") double adamBeta2,
        @Default("1e-8") double adamEpsilon,
        @Default("1.0") double maxGradNorm,
        @Default("3.0") double numTrainEpochs,
        @Default("-1") long maxSteps,
        @Default("linear") String lrSchedulerType,
        @Default("0.0") double warmupRatio,
        @Default("0") long warmupSteps,
        @Default("steps") String loggingStrategy,
        @Default("false") boolean loggingFirstStep,
        @Default("500") double loggingSteps,
        @Default("steps") String saveStrategy,
        @Default("500") double saveSteps,
        Integer saveTotalLimit,
        @Default("42") long seed,
        Long dataSeed,
        @Default("false") boolean fp16,
        @Default("false") boolean dataloaderDropLast,
        Double evalSteps,
        @Default("false") boolean loadBestModelAtEnd,
        String metricForBestModel,
        Boolean greaterIsBetter,
        @Default("0.0") double labelSmoothingFactor,
        @Default("adamw_torch") String optim,
        @Default("false") boolean groupByLength,
        @Default("jsonl") List<String> reportTo,
        String resumeFromCheckpoint,
        @Default("false") boolean gradientCheckpointing) {

    private static final System.Logger LOG = System.getLogger(TrainingArguments.class.getName());

    static final List<String> INTERVAL_STRATEGIES = List.of("no", "steps", "epoch");
    static final List<String> SAVE_STRATEGIES = List.of("no", "steps", "epoch", "best");
    static final List<String> OPTIMIZERS = List.of("adamw_torch", "adamw_hf", "sgd");

    public TrainingArguments {
        reportTo = List.copyOf(reportTo == null ? List.of() : reportTo);
        List<String> errors = new ArrayList<>();
        if (outputDir == null || outputDir.isBlank()) {
            errors.add("output_dir is required: set output_dir to the folder for checkpoints and logs");
        }
        if (!INTERVAL_STRATEGIES.contains(loggingStrategy)) {
            errors.add("logging_strategy '" + loggingStrategy + "' is not one of " + INTERVAL_STRATEGIES);
        }
        if (!INTERVAL_STRATEGIES.contains(evalStrategy)) {
            errors.add("eval_strategy '" + evalStrategy + "' is not one of " + INTERVAL_STRATEGIES);
        }
        if (!SAVE_STRATEGIES.contains(saveStrategy)) {
            errors.add("save_strategy '" + saveStrategy + "' is not one of " + SAVE_STRATEGIES);
        }
        // HF __post_init__: eval_steps defaults to logging_steps under the "steps" eval strategy
        if ("steps".equals(evalStrategy) && (evalSteps == null || evalSteps == 0)) {
            if (loggingSteps > 0) {
                evalSteps = loggingSteps;
            } else {
                errors.add("eval_strategy 'steps' requires a non-zero eval_steps or logging_steps: set eval_steps");
            }
        }
        // HF __post_init__: loss is the metric when the best model is tracked and none was named
        if ((loadBestModelAtEnd || "best".equals(saveStrategy)) && metricForBestModel == null) {
            metricForBestModel = "loss";
        }
        if (greaterIsBetter == null && metricForBestModel != null) {
            greaterIsBetter = !metricForBestModel.endsWith("loss");
        }

        if (!(learningRate > 0)) {
            errors.add("learning_rate must be > 0 but was " + learningRate + ": set learning_rate to e.g. 5e-5");
        }
        if (perDeviceTrainBatchSize <= 0) {
            errors.add("per_device_train_batch_size must be > 0 but was " + perDeviceTrainBatchSize
                    + ": set it to the examples per forward pass, e.g. 8");
        }
        if (perDeviceEvalBatchSize <= 0) {
            errors.add("per_device_eval_batch_size must be > 0 but was " + perDeviceEvalBatchSize
                    + ": set it to the examples per evaluation batch, e.g. 8");
        }
        if (gradientAccumulationSteps <= 0) {
            errors.add("gradient_accumulation_steps must be > 0 but was " + gradientAccumulationSteps
                    + ": use 1 for no accumulation");
        }
        if (maxSteps <= 0 && !(numTrainEpochs > 0)) {
            errors.add("num_train_epochs must be > 0 when max_steps is not set (was " + numTrainEpochs
                    + "): set num_train_epochs or max_steps");
        }
        if (!(weightDecay >= 0)) errors.add("weight_decay must be >= 0 but was " + weightDecay);
        if (!(adamBeta1 >= 0 && adamBeta1 < 1)) errors.add("adam_beta1 must be in [0, 1) but was " + adamBeta1);
        if (!(adamBeta2 >= 0 && adamBeta2 < 1)) errors.add("adam_beta2 must be in [0, 1) but was " + adamBeta2);
        if (!(adamEpsilon >= 0)) errors.add("adam_epsilon must be >= 0 but was " + adamEpsilon);
        if (!(maxGradNorm >= 0)) {
            errors.add("max_grad_norm must be >= 0 but was " + maxGradNorm + ": use 0 to disable clipping");
        }
        if (!LrSchedules.NAMES.contains(lrSchedulerType)) {
            errors.add("lr_scheduler_type '" + lrSchedulerType + "' is not supported: use one of " + LrSchedules.NAMES);
        }
        if (warmupSteps < 0) errors.add("warmup_steps must be >= 0 but was " + warmupSteps);
        if (!(warmupRatio >= 0 && warmupRatio <= 1)) {
            errors.add("warmup_ratio must lie in range [0,1] but was " + warmupRatio);
        }
        checkSteps("logging_steps", loggingSteps, "logging_strategy", loggingStrategy, errors);
        if (evalSteps != null) checkSteps("eval_steps", evalSteps, "eval_strategy", evalStrategy, errors);
        checkSteps("save_steps", saveSteps, "save_strategy", saveStrategy, errors);
        if (loadBestModelAtEnd) checkLoadBest(evalStrategy, evalSteps, saveStrategy, saveSteps, errors);
        if ("best".equals(saveStrategy) && "no".equals(evalStrategy)) {
            errors.add("save_strategy 'best' needs evaluations: set eval_strategy to 'steps' or 'epoch'");
        }
        if (optim == null || !OPTIMIZERS.contains(optim)) {
            errors.add("optim '" + optim + "' is not supported: use one of " + OPTIMIZERS
                    + ("adafactor".equals(optim) ? " (adafactor is not implemented)" : ""));
        }
        if (!(labelSmoothingFactor >= 0 && labelSmoothingFactor < 1)) {
            errors.add("label_smoothing_factor must be in [0, 1) but was " + labelSmoothingFactor);
        }
        for (String r : reportTo) {
            if (!"jsonl".equals(r)) {
                errors.add("report_to '" + r + "' is not supported: use [\"jsonl\"] or \"none\"");
            }
        }
        if (!errors.isEmpty()) {
            throw new IllegalArgumentException("invalid training arguments:\n  " + String.join("\n  ", errors));
        }
    }

    private static void checkSteps(String key, double steps, String strategyKey, String strategy, List<String> errors) {
        if (steps < 0 || Double.isNaN(steps)) {
            errors.add(key + " must be >= 0 but was " + steps);
        } else if (steps > 1 && steps != Math.rint(steps)) {
            errors.add(key + " must be an integer if bigger than 1: " + steps);
        } else if ("steps".equals(strategy) && steps == 0) {
            errors.add(
                    strategyKey + " 'steps' requires a non-zero " + key + ": set " + key + " or change " + strategyKey);
        }
    }

    /** HF __post_init__'s rules for load_best_model_at_end (save_strategy "best" is exempt, as in HF). */
    private static void checkLoadBest(
            String evalStrategy, Double evalSteps, String saveStrategy, double saveSteps, List<String> errors) {
        if ("best".equals(saveStrategy)) return;
        if (!evalStrategy.equals(saveStrategy)) {
            errors.add("load_best_model_at_end requires the save and eval strategy to match, but found eval_strategy '"
                    + evalStrategy + "' and save_strategy '" + saveStrategy + "': set both to the same value");
            return;
        }
        if ("no".equals(evalStrategy)) {
            errors.add("load_best_model_at_end needs evaluations: set eval_strategy and save_strategy to 'steps' or "
                    + "'epoch'");
            return;
        }
        if ("steps".equals(evalStrategy) && evalSteps != null && evalSteps > 0) {
            boolean evalRatio = evalSteps < 1;
            boolean saveRatio = saveSteps < 1;
            if (evalRatio != saveRatio) {
                errors.add("load_best_model_at_end requires save_steps to be a multiple of eval_steps, which cannot be "
                        + "guaranteed when mixing a ratio and absolute steps (save_steps " + fmt(saveSteps)
                        + ", eval_steps " + fmt(evalSteps) + "): use both ratios or both step counts");
            } else {
                // HF scales ratios by 1e6 before the modulo; integers are exact already
                long s = Math.round(saveSteps * (saveRatio ? 1_000_000 : 1));
                long e = Math.round(evalSteps * (evalRatio ? 1_000_000 : 1));
                if (s % e != 0) {
                    errors.add("load_best_model_at_end requires save_steps to be a round multiple of eval_steps, but "
                            + "save_steps " + fmt(saveSteps) + " is not a multiple of eval_steps " + fmt(evalSteps)
                            + ": set save_steps to a multiple of eval_steps");
                }
            }
        }
    }

    private static String fmt(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }

    // ---------------------------------------------------------------- steps and epochs

    /**
     * Optimizer steps per epoch with {@code worldSize} replicas (HF Trainer's {@code num_update_steps_per_epoch}), as
     * {@link DataSharding} cuts the epoch: the {@code numExamples} examples form {@code ceil(n / batch)} micro-batches
     * ({@code floor} with dataloader_drop_last), and one optimizer step takes {@code gradient_accumulation_steps ×
     * worldSize} of them (the global batch); at least 1. With one replica this is HF's count exactly; with several it
     * counts the global batches instead of HF's padded per-replica shards (torch DistributedSampler), so the plan and
     * the steps the replicas run agree for any worker count.
     */
    public long numUpdateStepsPerEpoch(long numExamples, int worldSize) {
        if (numExamples <= 0) {
            throw new IllegalArgumentException("the training set is empty: numExamples was " + numExamples);
        }
        if (worldSize <= 0) throw new IllegalArgumentException("worldSize must be > 0 but was " + worldSize);
        long batches = dataloaderDropLast
                ? numExamples / perDeviceTrainBatchSize
                : ceilDiv(numExamples, perDeviceTrainBatchSize);
        if (batches == 0) {
            throw new IllegalArgumentException("dataloader_drop_last with " + numExamples + " examples and "
                    + "per_device_train_batch_size " + perDeviceTrainBatchSize
                    + " leaves no batch: lower the batch size "
                    + "or set dataloader_drop_last false");
        }
        return Math.max(batches / ((long) gradientAccumulationSteps * worldSize), 1);
    }

    /** Total optimizer steps (HF): max_steps if > 0, else {@code ceil(num_train_epochs · updatesPerEpoch)}. */
    public long resolveMaxSteps(long updatesPerEpoch) {
        return maxSteps > 0 ? maxSteps : (long) Math.ceil(numTrainEpochs * updatesPerEpoch);
    }

    /** Epochs the loop runs (HF): {@code ceil(max_steps / updatesPerEpoch)} if max_steps > 0, else ceil(num_train_epochs). */
    public long resolveNumTrainEpochs(long updatesPerEpoch) {
        return maxSteps > 0 ? ceilDiv(maxSteps, updatesPerEpoch) : (long) Math.ceil(numTrainEpochs);
    }

    /** HF {@code get_warmup_steps}: warmup_steps if > 0, else {@code ceil(warmup_ratio · numTrainingSteps)}. */
    public long warmupSteps(long numTrainingSteps) {
        return warmupSteps > 0 ? warmupSteps : (long) Math.ceil(numTrainingSteps * warmupRatio);
    }

    /** HF Trainer: a logging/eval/save interval below 1 is a ratio of max steps, rounded up. */
    static long resolveInterval(double steps, long maxSteps) {
        return steps < 1 ? (long) Math.ceil(maxSteps * steps) : (long) steps;
    }

    /** Resolves every step count of one run; see {@link TrainingPlan}. */
    public TrainingPlan plan(long numExamples, int worldSize) {
        long perEpoch = numUpdateStepsPerEpoch(numExamples, worldSize);
        long total = resolveMaxSteps(perEpoch);
        return new TrainingPlan(
                perEpoch,
                total,
                resolveNumTrainEpochs(perEpoch),
                warmupSteps(total),
                resolveInterval(loggingSteps, total),
                evalSteps == null ? 0 : resolveInterval(evalSteps, total),
                resolveInterval(saveSteps, total),
                (long) perDeviceTrainBatchSize * gradientAccumulationSteps * worldSize);
    }

    /** The schedule HF's Trainer builds: {@code get_scheduler(lr_scheduler_type, warmup, total)}. */
    public LrSchedule schedule(long numTrainingSteps) {
        return LrSchedules.get(lrSchedulerType, warmupSteps(numTrainingSteps), numTrainingSteps, learningRate);
    }

    /** data_seed if set, else seed (HF's sampler seed). */
    public long effectiveDataSeed() {
        return dataSeed != null ? dataSeed : seed;
    }

    /** The metric key compared for the best model: metric_for_best_model with HF's "eval_" prefix; null if unset. */
    public String bestMetricKey() {
        if (metricForBestModel == null) return null;
        return metricForBestModel.startsWith("eval_") ? metricForBestModel : "eval_" + metricForBestModel;
    }

    /** Whether resume_from_checkpoint asks for the latest checkpoint in output_dir. */
    public boolean resumeFromLatest() {
        return resumeFromCheckpoint != null && resumeFromCheckpoint.equalsIgnoreCase("true");
    }

    /** Checks what depends on the device: fp16 needs a GPU. Call before training starts. */
    public void validateFor(Device device) {
        if (fp16 && !Device.Type.GPU.equals(device.getDeviceType())) {
            throw new IllegalArgumentException(
                    "fp16 needs a GPU, but training runs on " + device + ": set fp16 false or train on a GPU");
        }
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    // ---------------------------------------------------------------- builder

    public static Builder builder(String outputDir) {
        return new Builder().set("output_dir", outputDir);
    }

    /** A builder holding these values (re-typed: {@link #toMap} writes integral step counts as integers). */
    public Builder toBuilder() {
        Builder b = new Builder();
        toMap().forEach((k, v) ->
                b.values.put(k, TrainingArgumentKeys.require(k).coerce(v)));
        return b;
    }

    /** The HF names of the keys implemented here, in HF's field order. */
    public static List<String> keyNames() {
        return List.copyOf(TrainingArgumentKeys.KEYS.keySet());
    }

    /**
     * Collects values by HF name, starting from the declared defaults; {@link #build()} validates. The typed setters
     * are shorthands for {@link #set(String, Object)}, which takes every key.
     */
    public static final class Builder {
        final Map<String, Object> values = TrainingArgumentKeys.defaults();

        private Builder() {}

        /** Sets {@code key} (an HF name) to a value of its type; unknown keys fail with a did-you-mean. */
        public Builder set(String key, Object value) {
            TrainingArgumentKeys.Key k = TrainingArgumentKeys.require(key);
            // "none", "all" and single names read as HF reads them, exactly as when loading a file
            if ("report_to".equals(k.name())) value = TrainingArgumentKeys.readReportTo(value, new ArrayList<>());
            values.put(k.name(), k.coerce(value));
            return this;
        }

        public Builder numTrainEpochs(double v) {
            return set("num_train_epochs", v);
        }

        public Builder maxSteps(long v) {
            return set("max_steps", v);
        }

        public Builder perDeviceTrainBatchSize(int v) {
            return set("per_device_train_batch_size", v);
        }

        public Builder perDeviceEvalBatchSize(int v) {
            return set("per_device_eval_batch_size", v);
        }

        public Builder gradientAccumulationSteps(int v) {
            return set("gradient_accumulation_steps", v);
        }

        public Builder learningRate(double v) {
            return set("learning_rate", v);
        }

        public Builder weightDecay(double v) {
            return set("weight_decay", v);
        }

        public Builder lrSchedulerType(String v) {
            return set("lr_scheduler_type", v);
        }

        public Builder warmupSteps(long v) {
            return set("warmup_steps", v);
        }

        public Builder warmupRatio(double v) {
            return set("warmup_ratio", v);
        }

        public Builder loggingSteps(double v) {
            return set("logging_steps", v);
        }

        public Builder evalStrategy(String v) {
            return set("eval_strategy", v);
        }

        public Builder evalSteps(Double v) {
            return set("eval_steps", v);
        }

        public Builder saveStrategy(String v) {
            return set("save_strategy", v);
        }

        public Builder saveSteps(double v) {
            return set("save_steps", v);
        }

        public Builder saveTotalLimit(Integer v) {
            return set("save_total_limit", v);
        }

        public Builder loadBestModelAtEnd(boolean v) {
            return set("load_best_model_at_end", v);
        }

        public Builder metricForBestModel(String v) {
            return set("metric_for_best_model", v);
        }

        public Builder greaterIsBetter(Boolean v) {
            return set("greater_is_better", v);
        }

        public Builder optim(String v) {
            return set("optim", v);
        }

        public Builder seed(long v) {
            return set("seed", v);
        }

        public Builder gradientCheckpointing(boolean v) {
            return set("gradient_checkpointing", v);
        }

        public Builder fp16(boolean v) {
            return set("fp16", v);
        }

        public Builder reportTo(List<String> v) {
            return set("report_to", v);
        }

        /** Binds the values onto the record (Jackson, HF names); the constructor reports every violation at once. */
        public TrainingArguments build() {
            return TrainingArgumentKeys.bind(values);
        }
    }

    // ---------------------------------------------------------------- HF names on disk

    /**
     * The arguments by HF name, in HF's field order, as Jackson writes the record (integral step counts written as
     * integers, as HF does).
     */
    public Map<String, Object> toMap() {
        return TrainingArgumentKeys.toMap(this);
    }

    /** HF's {@code args.to_json_string()} for the keys we implement: pretty JSON, HF names. */
    public String toJson() {
        try {
            return Json.MAPPER.writeValueAsString(toMap());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Builds arguments from HF names, as in HF's training-args JSON or a YAML config. HF keys we do not implement are
     * ignored, and those set to something other than HF's default are reported in {@code warnings}; a key HF does not
     * know either is an error with a did-you-mean. {@code overrides} ({@code --set key=value}, parsed by the key's
     * type) apply before HF's derived defaults resolve.
     */
    public static TrainingArguments fromMap(
            Map<String, ?> values, Map<String, String> overrides, List<String> warnings) {
        Builder b = new Builder();
        List<String> errors = new ArrayList<>();
        Map<String, Object> merged = new LinkedHashMap<>(values);
        // the old name still loads (HF deprecated it in 4.41); both with different values is ambiguous
        if (merged.containsKey("evaluation_strategy")) {
            Object old = merged.remove("evaluation_strategy");
            Object cur = merged.get("eval_strategy");
            if (cur != null && old != null && !cur.equals(old)) {
                errors.add("evaluation_strategy '" + old + "' and eval_strategy '" + cur
                        + "' disagree: keep only eval_strategy");
            } else if (old != null) {
                merged.put("eval_strategy", old);
            }
        }
        for (Map.Entry<String, ?> e : merged.entrySet()) {
            try {
                applyLoaded(b, e.getKey(), e.getValue(), warnings);
            } catch (IllegalArgumentException ex) {
                errors.add(ex.getMessage());
            }
        }
        for (Map.Entry<String, String> e : overrides.entrySet()) {
            try {
                String key = "evaluation_strategy".equals(e.getKey()) ? "eval_strategy" : e.getKey();
                TrainingArgumentKeys.Key k = TrainingArgumentKeys.require(key);
                Object v = k.parse(e.getValue());
                if ("report_to".equals(key)) v = TrainingArgumentKeys.readReportTo(v, warnings);
                b.values.put(k.name(), v);
            } catch (IllegalArgumentException ex) {
                errors.add(ex.getMessage());
            }
        }
        if (!errors.isEmpty()) {
            throw new IllegalArgumentException("invalid training arguments:\n  " + String.join("\n  ", errors));
        }
        return b.build();
    }

    private static void applyLoaded(Builder b, String key, Object value, List<String> warnings) {
        TrainingArgumentKeys.Key k = TrainingArgumentKeys.KEYS.get(key);
        if (k == null) {
            String ignored = TrainingArgumentKeys.ignoredHfKeyWarning(key, value);
            if (ignored == null) throw new IllegalArgumentException(TrainingArgumentKeys.unknownKeyMessage(key));
            if (!ignored.isEmpty()) warnings.add(ignored);
            return;
        }
        if ("report_to".equals(key)) value = TrainingArgumentKeys.readReportTo(value, warnings);
        if ("resume_from_checkpoint".equals(key) && value instanceof Boolean flag) value = flag ? "true" : null;
        b.values.put(k.name(), k.coerce(value));
    }

    /** {@link #fromMap(Map, Map, List)} logging the warnings. */
    public static TrainingArguments fromMap(Map<String, ?> values) {
        List<String> warnings = new ArrayList<>();
        TrainingArguments args = fromMap(values, Map.of(), warnings);
        logWarnings(warnings);
        return args;
    }

    /** HF's training-args JSON (from {@code args.to_json_string()} or {@code training_args.json}). */
    public static TrainingArguments fromJson(String json) {
        Map<String, Object> m;
        try {
            m = Json.MAPPER.readValue(json, new TypeReference<LinkedHashMap<String, Object>>() {});
        } catch (IOException e) {
            throw new IllegalArgumentException("training arguments are not a valid JSON mapping: " + e.getMessage(), e);
        }
        return fromMap(m == null ? Map.of() : m);
    }

    public static TrainingArguments fromJson(Path file) throws IOException {
        return fromJson(Files.readString(file));
    }

    /**
     * A copy with {@code --set key=value} overrides applied, each parsed by the key's type ({@code null} or {@code
     * None} clears a nullable key). Like HF's {@code dataclasses.replace}, derived defaults already resolved (eval_steps,
     * metric_for_best_model, greater_is_better) keep their values unless overridden too; to resolve them after the
     * overrides, pass the overrides to {@link #fromMap(Map, Map, List)} with the raw configuration.
     */
    public TrainingArguments withOverrides(Map<String, String> overrides) {
        List<String> warnings = new ArrayList<>();
        TrainingArguments args = fromMap(toMap(), overrides, warnings);
        logWarnings(warnings);
        return args;
    }

    /** Writes {@link #toJson()} to {@code file}. */
    public void writeJson(Path file) throws IOException {
        ObjectNode node = Json.MAPPER.valueToTree(toMap());
        Json.write(file, node);
    }

    private static void logWarnings(List<String> warnings) {
        for (String w : warnings) LOG.log(System.Logger.Level.WARNING, w);
    }
}
