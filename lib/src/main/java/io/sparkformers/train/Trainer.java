package io.sparkformers.train;

import ai.djl.Device;
import ai.djl.nn.Parameter;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.ParameterNames;
import io.sparkformers.nn.StateDict;
import io.sparkformers.nn.Task;
import io.sparkformers.safetensors.SafetensorsCheckpoint;
import io.sparkformers.safetensors.SafetensorsWriter;
import io.sparkformers.train.DataCollatorWithPadding.Batch;
import io.sparkformers.train.DataCollatorWithPadding.Example;
import io.sparkformers.train.DataCollatorWithPadding.LabelKind;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * HF's {@code Trainer} for sequence classification (single-label, multi-label, regression) and token
 * classification, in one process: {@code train(trainData, evalData)} fine-tunes a pretrained checkpoint under
 * {@link TrainingArguments} and leaves, in {@code output_dir}, what HF's {@code run_glue.py} leaves — the model in HF
 * layout (config with id2label/label2id, model.safetensors, tokenizer files), {@code checkpoint-<step>} folders,
 * {@code train_results.json}, {@code eval_results.json}, {@code all_results.json}, {@code trainer_state.json} — plus
 * {@code provenance.json}, {@code training_curves.png} and, with {@code report_to: jsonl}, {@code log_history.jsonl}.
 *
 * <p>Semantics follow HF's {@code _inner_training_loop}: gradient accumulation with the loss scaled by
 * {@code 1/accumulation}, linear/cosine/… schedules with warm-up stepped per optimizer step, AdamW or SGD with no
 * weight decay on biases and LayerNorm, global-norm clipping, log entries {@code loss} (mean over the logging
 * interval, rounded to 4 digits), {@code grad_norm}, {@code learning_rate}, {@code epoch}; evaluation and saving by
 * strategy, best-metric tracking, HF's checkpoint rotation, {@code load_best_model_at_end}, callbacks.
 *
 * <p>Exact resumption: data order comes from {@link DataSharding} (seeded per epoch), dropout is re-seeded per
 * micro-batch from (seed, step, micro-batch), and the checkpoint holds weights and optimizer state bit for bit, so
 * stopping after checkpoint N and resuming gives the weights of the uninterrupted run. Differences from HF: the last
 * optimizer step of an epoch also takes the micro-batches left over by accumulation; {@code train_loss} averages the
 * steps of this run.
 *
 * <p>Every input is checked before the first step (labels, empty data, texts, arguments, fp16 on CPU). A Trainer is
 * immutable; each {@link #train} call keeps its state in a run object of its own (Tribuo's rule), so one Trainer may
 * fit many times.
 *
 * <p>Data parallel ({@link Builder#dataParallel}): every replica runs this loop on a {@link Shard} of the rows. Each
 * optimizer step reads the same global batch whatever the worker count ({@link DataSharding}: micro-batch m of a step
 * runs on rank {@code m % worldSize}, its loss scaled by {@code 1/(micro-batches in the step)}, its dropout seeded from
 * (seed, step, m)); the replicas sum their gradients ({@link DataParallel#allReduceSum}, outside {@link TrainingLock})
 * and apply the same update, as PyTorch DDP. Rank 0 broadcasts the initial trainable weights and alone writes
 * output_dir; evaluations merge every rank's metric states exactly ({@link Evaluation#metrics}).
 */
public final class Trainer {

    /** Provenance file beside the final model. */
    public static final String PROVENANCE = "provenance.json";
    public static final String CURVES = "training_curves.png";

    private final TrainingArguments args;
    private final Path model;
    private final Task task;
    private final LabelKind labelKind;
    private final List<String> labels;
    private final TransferMode mode;
    private final int maxLength;
    private final List<TrainerCallback> callbacks;
    private final Integer earlyStoppingPatience;
    private final double earlyStoppingThreshold;
    private final boolean progress;
    private final boolean evalBeforeTraining;
    private final Device device;
    private final DataParallel dp;
    private final int checkConsistencyEverySteps;

    private Trainer(Builder b) {
        this.args = b.args;
        this.model = b.model;
        this.task = b.task;
        this.labelKind = b.labelKind != null ? b.labelKind
                : b.task == Task.TOKEN_CLASSIFICATION ? LabelKind.TOKEN : LabelKind.SINGLE_LABEL;
        this.labels = b.labels == null ? null : List.copyOf(b.labels);
        this.mode = b.mode;
        this.maxLength = b.maxLength;
        this.callbacks = List.copyOf(b.callbacks);
        this.earlyStoppingPatience = b.earlyStoppingPatience;
        this.earlyStoppingThreshold = b.earlyStoppingThreshold;
        this.progress = b.progress;
        this.evalBeforeTraining = b.evalBeforeTraining;
        this.device = b.device;
        this.dp = b.dataParallel;
        this.checkConsistencyEverySteps = TrainingRun.requireConsistencyInterval(b.checkConsistencyEverySteps);
        if (task != Task.SEQUENCE_CLASSIFICATION && task != Task.TOKEN_CLASSIFICATION) {
            throw new IllegalArgumentException("the Trainer trains text-classification and token-classification, not "
                    + task);
        }
        if ((task == Task.TOKEN_CLASSIFICATION) != (labelKind == LabelKind.TOKEN)) {
            throw new IllegalArgumentException("label kind " + labelKind + " does not fit task " + task);
        }
        if (labelKind == LabelKind.NONE) throw new IllegalArgumentException("training needs labels");
        if (maxLength <= 0) throw new IllegalArgumentException("max_length must be > 0 but was " + maxLength);
    }

    /**
     * @param args  the training arguments
     * @param model a checkpoint folder in HF layout (a built-in alias is resolved by the caller)
     */
    public static Builder builder(TrainingArguments args, Path model) {
        return new Builder(args, model);
    }

    /** Collects the options of a Trainer; {@link #build()} validates them. */
    public static final class Builder {
        private final TrainingArguments args;
        private final Path model;
        private Task task = Task.SEQUENCE_CLASSIFICATION;
        private LabelKind labelKind;
        private List<String> labels;
        private TransferMode mode = TransferMode.fineTune();
        private int maxLength = 128;
        private final List<TrainerCallback> callbacks = new ArrayList<>();
        private Integer earlyStoppingPatience;
        private double earlyStoppingThreshold;
        private boolean progress;
        private boolean evalBeforeTraining;
        private Device device = Device.cpu();
        private DataParallel dataParallel = DataParallel.SINGLE;
        private int checkConsistencyEverySteps = 100;

        private Builder(TrainingArguments args, Path model) {
            this.args = java.util.Objects.requireNonNull(args, "args");
            this.model = java.util.Objects.requireNonNull(model, "model");
        }

        /** SEQUENCE_CLASSIFICATION (default) or TOKEN_CLASSIFICATION. */
        public Builder task(Task t) { this.task = t; return this; }

        /** SINGLE_LABEL (default), MULTI_LABEL or REGRESSION for sequence classification (HF problem_type). */
        public Builder labelKind(LabelKind k) { this.labelKind = k; return this; }

        /** The class names in id order; default: sorted unique labels of the training data. */
        public Builder labels(List<String> l) { this.labels = l; return this; }

        public Builder mode(TransferMode m) { this.mode = m; return this; }

        /** Tokens kept per example (HF {@code max_length}, default 128; capped by the tokenizer's own limit). */
        public Builder maxLength(int n) { this.maxLength = n; return this; }

        /** A callback; stateless or fresh per Trainer (EarlyStopping: use {@link #earlyStopping}). */
        public Builder callback(TrainerCallback c) { this.callbacks.add(c); return this; }

        /** HF's EarlyStoppingCallback, a fresh one per fit. */
        public Builder earlyStopping(int patience, double threshold) {
            this.earlyStoppingPatience = patience;
            this.earlyStoppingThreshold = threshold;
            return this;
        }

        /** Print progress to standard error on rank 0 ({@link ProgressReporter}: a bar on a terminal, a line per log
         * otherwise); off by default. */
        public Builder progress(boolean p) { this.progress = p; return this; }

        /** Also evaluate the untrained model (the new head) before the first step: {@link TrainOutput#initialEval}. */
        public Builder evalBeforeTraining(boolean e) { this.evalBeforeTraining = e; return this; }

        public Builder device(Device d) { this.device = d; return this; }

        /** The replica group of a data-parallel run (default {@link DataParallel#SINGLE}: one process). */
        public Builder dataParallel(DataParallel d) { this.dataParallel = java.util.Objects.requireNonNull(d); return this; }

        /** Steps between checks that all replicas hold bit-identical trainable weights (default 100; 0 = never). */
        public Builder checkConsistencyEverySteps(int n) { this.checkConsistencyEverySteps = n; return this; }

        public Trainer build() {
            return new Trainer(this);
        }
    }

    /**
     * What a fit produced (HF's {@code TrainOutput} plus the evaluations).
     *
     * @param globalStep   optimizer steps done in total
     * @param trainingLoss mean loss over the steps of this run
     * @param trainMetrics train_runtime, train_samples_per_second, train_steps_per_second, train_loss, epoch, …
     * @param evalMetrics  the final evaluation (empty without eval data)
     * @param initialEval  the evaluation before training (empty unless asked for)
     * @param outputDir    where the final model and reports are
     * @param bestCheckpoint the best checkpoint folder, or null
     */
    public record TrainOutput(long globalStep, double trainingLoss, Map<String, Object> trainMetrics,
                              Map<String, Double> evalMetrics, Map<String, Double> initialEval, Path outputDir,
                              String bestCheckpoint) { }

    public TrainingArguments args() {
        return args;
    }

    /**
     * The training rows one replica holds: {@code rows.get(k)} is example {@code indices[k]} of the {@code numExamples}
     * of the whole training set. A replica needs the rows of every micro-batch {@link DataSharding} gives its rank in
     * the epochs it runs; {@link #all} is the whole set (one process).
     */
    public record Shard(TextDataset rows, int[] indices, int numExamples) {
        public Shard {
            java.util.Objects.requireNonNull(rows, "rows");
            checkIndices(indices, rows.size(), numExamples);
        }

        public static Shard all(TextDataset rows) {
            return new Shard(rows, identity(rows.size()), rows.size());
        }

        static void checkIndices(int[] indices, int rows, int numExamples) {
            if (indices.length != rows) {
                throw new IllegalArgumentException(rows + " rows but " + indices.length + " indices");
            }
            for (int i : indices) {
                if (i < 0 || i >= numExamples) {
                    throw new IllegalArgumentException("row index " + i + " is outside 0.." + (numExamples - 1));
                }
            }
        }

        static int[] identity(int n) {
            int[] idx = new int[n];
            for (int i = 0; i < n; i++) idx[i] = i;
            return idx;
        }
    }

    /** Fine-tunes on {@code train}, evaluating on {@code eval} (may be null when eval_strategy is "no"). */
    public TrainOutput train(TextDataset train, TextDataset eval) throws IOException {
        if (train == null) throw new IllegalArgumentException("no training dataset given");
        return train(Shard.all(train), eval);
    }

    /**
     * One replica's part of a data-parallel fit: its {@code train} rows, and its share of the evaluation rows (disjoint
     * across ranks, possibly empty; null when eval_strategy is "no").
     */
    public TrainOutput train(Shard train, TextDataset eval) throws IOException {
        try (Run run = new Run(train, eval)) {
            return run.execute(evalBeforeTraining);
        }
    }

    /**
     * Evaluates a fine-tuned checkpoint on labelled rows, as {@code Trainer(model).evaluate(dataset)}: the label kind
     * and names come from the checkpoint's config (problem_type, id2label).
     */
    public static Map<String, Double> evaluate(Path modelDir, TextDataset data, int maxLength, int batchSize)
            throws IOException {
        HfCheckpoint ckpt = HfCheckpoint.open(modelDir);
        ObjectNode config = ckpt.config();
        String problem = config.path("problem_type").asText(null);
        List<String> names = id2label(config);
        boolean token = config.path("architectures").path(0).asText("").endsWith("ForTokenClassification");
        LabelKind kind = token ? LabelKind.TOKEN
                : "multi_label_classification".equals(problem) ? LabelKind.MULTI_LABEL
                : "regression".equals(problem) || names.size() == 1 ? LabelKind.REGRESSION : LabelKind.SINGLE_LABEL;
        Task task = token ? Task.TOKEN_CLASSIFICATION : Task.SEQUENCE_CLASSIFICATION;
        try (TextTokenizer tok = TextTokenizer.load(ckpt, maxLength)) {
            TrainingData features = TrainingData.featurize(data, kind,
                    kind == LabelKind.REGRESSION ? null : new LabelSpace(names), tok, "evaluation");
            try (HfModel m = HfModel.fromPretrained(ckpt, task, Device.cpu())) {
                Map<String, Double> metrics = Evaluation.run(m.block(), m.manager(), features, batchSize, kind, names,
                        0.0, tok.padTokenId());
                metrics.put("eval_samples", (double) features.size());
                return metrics;
            }
        }
    }

    private static List<String> id2label(ObjectNode config) {
        Map<Integer, String> m = new java.util.TreeMap<>();
        config.path("id2label").fields().forEachRemaining(e -> m.put(Integer.parseInt(e.getKey()), e.getValue().asText()));
        return new ArrayList<>(m.values());
    }

    /**
     * Writes the files of a {@code checkpoint-<step>} folder besides the model: optimizer.safetensors,
     * scheduler.json, trainer_state.json, rng_state.json, training_args.json. Shared with the distributed trainer.
     */
    public static void writeCheckpointFiles(Path dir, Optimizer optimizer, LrSchedule schedule, TrainerState state,
            RngState rng, TrainingArguments args) throws IOException {
        SafetensorsWriter.write(dir.resolve(CheckpointManager.OPTIMIZER_NAME), optimizer.stateDict(),
                Map.of("format", "pt", "optimizer", optimizer.getClass().getSimpleName()));
        List<Double> baseLrs = new ArrayList<>();
        for (ParamGroup g : optimizer.groups()) baseLrs.add(g.lr());
        SchedulerState.after(state.globalStep, baseLrs, schedule).save(dir.resolve(CheckpointManager.SCHEDULER_NAME));
        state.save(dir.resolve(CheckpointManager.TRAINER_STATE_NAME));
        rng.save(dir.resolve(CheckpointManager.RNG_STATE_NAME));
        args.writeJson(dir.resolve(CheckpointManager.TRAINING_ARGS_NAME));
    }

    // ------------------------------------------------------------------------------------------------ one fit

    /** One {@link #train} call: the text side of {@link TrainingRun}; closed at its end. */
    private final class Run extends TrainingRun {
        private final TextDataset trainRows;
        private final Shard shard;
        private final TextDataset evalRows;
        private List<Example> examples;
        private TextTokenizer tokenizer;
        private HfModel hf;
        private TrainStep step;
        private LabelSpace labelSpace;
        private TrainingData trainData;
        private TrainingData evalData;
        private DataCollatorWithPadding collator;

        Run(Shard train, TextDataset eval) {
            super(Trainer.this.args, Trainer.this.dp, Trainer.this.checkConsistencyEverySteps);
            this.shard = train;
            this.trainRows = train == null ? null : train.rows();
            this.evalRows = eval;
        }

        @Override
        void prepare() throws IOException {
            if (trainRows == null) throw new IllegalArgumentException("no training dataset given");
            checkArguments(device, evalRows != null, earlyStoppingPatience, earlyStoppingThreshold);
            if (world > 1 && labels == null && labelKind != LabelKind.REGRESSION) {
                throw new IllegalArgumentException("a data-parallel fit needs the label names up front (each replica "
                        + "holds only part of the rows): pass labels(...)");
            }
            if (world > 1 && args.groupByLength()) {
                throw new IllegalArgumentException("group_by_length needs every example's length on every replica and "
                        + "is not supported with " + world + " workers: set group_by_length false");
            }
            HfCheckpoint source = HfCheckpoint.open(model);
            tokenizer = TextTokenizer.load(source, maxLength);
            collator = new DataCollatorWithPadding(tokenizer.padTokenId());
            if (labelKind == LabelKind.REGRESSION) {
                labelSpace = null;
            } else if (labels != null) {
                labelSpace = labelKind == LabelKind.SINGLE_LABEL ? LabelSpace.forSingleLabel(labels)
                        : new LabelSpace(labels);
            } else {
                if (trainRows.isEmpty()) {
                    throw new IllegalArgumentException("the training dataset (" + trainRows.description()
                            + ") is empty: check the path, the filter and data.limit");
                }
                List<String> seen = TrainingData.labelNames(trainRows, labelKind);
                labelSpace = labelKind == LabelKind.SINGLE_LABEL
                        ? LabelSpace.forSingleLabel(seen.stream().collect(java.util.stream.Collectors.groupingBy(
                                l -> l, java.util.stream.Collectors.counting())),
                                "the label column of the training dataset (" + trainRows.description() + ")")
                        : LabelSpace.fromLabels(seen);
            }
            trainData = TrainingData.featurize(trainRows, labelKind, labelSpace, tokenizer, "training");
            examples = new ArrayList<>(java.util.Collections.nCopies(shard.numExamples(), (Example) null));
            for (int k = 0; k < shard.indices().length; k++) examples.set(shard.indices()[k], trainData.examples().get(k));
            if (evalRows != null) {
                evalData = evalRows.isEmpty() && world > 1 ? new TrainingData(evalRows.description(), List.of())
                        : TrainingData.featurize(evalRows, labelKind, labelSpace, tokenizer, "evaluation");
            }
            planSteps(shard.numExamples(), args.groupByLength() ? trainData.lengths() : null);
            loadModel(source);
            String prefix = hf.block().baseModelPrefix();
            optimizer = Optimizers.create(args, mode.headLrMultiplier(), n -> TransferMode.isHead(n, prefix),
                    resumeFrom, device);
            startState(callbacks, progress);
        }

        private void loadModel(HfCheckpoint source) throws IOException {
            try (TrainingLock.Held lock = TrainingLock.acquire()) {
                TrainStep.seedTorch(args.seed());                   // HF set_seed before the model (new head) is built
                // on resume too the model is built from the source (whose tokenizer files later saves copy: the
                // resumed checkpoint may be rotated away), then takes the checkpoint's weights
                if (resumeFrom != null) checkResumedLabels();
                hf = HfModel.fromPretrained(source, task, device, this::withLabels);
                if (resumeFrom != null) {
                    try (SafetensorsCheckpoint w = HfCheckpoint.open(resumeFrom).openWeights()) {
                        StateDict.load(hf.block(), w.readAll(), StateDict.Options.STRICT);
                    }
                }
            }
            String prefix = hf.block().baseModelPrefix();
            Map<String, ParameterNames.Entry> params = ParameterNames.of(hf.block());
            Set<String> fresh = new HashSet<>(hf.loadReport().newlyInitialized());
            if (resumeFrom != null) fresh.addAll(newlyInitializedAtStart(params.keySet(), prefix));
            Set<String> trainable = mode.trainable(new ArrayList<>(params.keySet()), prefix, fresh);
            List<ParamRef> refs = new ArrayList<>();
            for (ParameterNames.Entry e : params.values()) {
                Parameter p = e.parameter();
                boolean train = trainable.contains(e.name());
                p.freeze(!train);
                if (train) refs.add(new ParamRef(e.name(), p.getArray()));
            }
            step = new TrainStep(hf.block(), hf.manager(), labelKind, args.labelSmoothingFactor(),
                    mode.kind() == TransferMode.Kind.FEATURE_EXTRACTION, refs);
        }

        /** On resume, the base parameters the source checkpoint lacked (they trained from the start). */
        private Set<String> newlyInitializedAtStart(Set<String> names, String prefix) throws IOException {
            Set<String> out = new HashSet<>();
            try (SafetensorsCheckpoint w = HfCheckpoint.open(model).openWeights()) {
                Set<String> have = w.names();
                for (String n : names) {
                    String bare = n.startsWith(prefix + ".") ? n.substring(prefix.length() + 1) : n;
                    if (!TransferMode.isHead(n, prefix) && !have.contains(n) && !have.contains(bare)) out.add(n);
                }
            }
            return out;
        }

        private ObjectNode withLabels(ObjectNode config) {
            if (labelSpace != null) {
                ObjectNode id2label = config.putObject("id2label");
                ObjectNode label2id = config.putObject("label2id");
                List<String> names = labelSpace.names();
                for (int i = 0; i < names.size(); i++) {
                    id2label.put(Integer.toString(i), names.get(i));
                    label2id.put(names.get(i), i);
                }
            } else {
                config.putObject("id2label").put("0", "LABEL_0");
                config.putObject("label2id").put("LABEL_0", 0);
            }
            switch (labelKind) {
                case SINGLE_LABEL -> config.put("problem_type", "single_label_classification");
                case MULTI_LABEL -> config.put("problem_type", "multi_label_classification");
                case REGRESSION -> config.put("problem_type", "regression");
                default -> config.remove("problem_type");
            }
            return config;
        }

        private void checkResumedLabels() throws IOException {
            if (labelSpace == null) return;
            List<String> saved = id2label(HfCheckpoint.open(resumeFrom).config());
            if (!saved.equals(labelSpace.names())) {
                throw new IllegalArgumentException("checkpoint " + resumeFrom + " was trained with labels " + saved
                        + " but the data has " + labelSpace.names() + ": resume with the same data or labels");
            }
        }

        @Override
        Micro forwardBackward(int[] micro, double scale, long seed) {
            List<Example> rows = new ArrayList<>(micro.length);
            for (int i : micro) rows.add(example(i));
            Batch batch = collator.collate(rows);
            return new Micro(step.forwardBackward(batch, scale, seed).loss(), batch.realTokens());
        }

        private Example example(int i) {
            Example e = examples.get(i);
            if (e == null) {
                throw new IllegalStateException("rank " + dp.rank() + " was not given training example " + i
                        + " that its micro-batches need: the shard does not follow DataSharding's order");
            }
            return e;
        }

        @Override
        List<ParamRef> trainable() {
            return step.trainableParams();
        }

        @Override
        Evaluation.Partial evaluatePartial() {
            return Evaluation.partial(hf.block(), hf.manager(), evalData.examples(), args.perDeviceEvalBatchSize(),
                    labelKind, labelNames(), args.labelSmoothingFactor(), tokenizer.padTokenId());
        }

        @Override
        boolean hasEvalData() {
            return evalData != null;
        }

        private List<String> labelNames() {
            return labelSpace == null ? List.of("LABEL_0") : labelSpace.names();
        }

        @Override
        void saveModel(Path dir) throws IOException {
            hf.savePretrained(dir);
        }

        @Override
        void loadWeights(Path checkpoint) throws IOException {
            try (TrainingLock.Held lock = TrainingLock.acquire();
                 SafetensorsCheckpoint w = HfCheckpoint.open(checkpoint).openWeights()) {
                StateDict.load(hf.block(), w.readAll(), StateDict.Options.STRICT);
            }
        }

        @Override
        int numExamples() {
            return shard.numExamples();
        }

        @Override
        String curveMetric() {
            if (args.metricForBestModel() != null && !args.metricForBestModel().endsWith("loss")) {
                return args.metricForBestModel();
            }
            return switch (labelKind) {
                case SINGLE_LABEL -> "accuracy";
                case MULTI_LABEL -> "f1_micro";
                case REGRESSION -> "mse";
                default -> "overall_f1";
            };
        }

        @Override
        Map<String, Object> provenance(Map<String, Double> initial) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("source_checkpoint", model.toAbsolutePath().normalize().toString());
            try {
                p.put("source_config_name_or_path", HfCheckpoint.open(model).config().path("_name_or_path")
                        .asText(null));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            p.put("task", task.name().toLowerCase(java.util.Locale.ROOT));
            p.put("label_kind", labelKind.name().toLowerCase(java.util.Locale.ROOT));
            p.put("labels", labelNames());
            p.put("mode", mode.kind().configName());
            p.put("unfreeze_last_layers", mode.unfreezeLastLayers());
            p.put("unfreeze_patterns", mode.unfreezePatterns());
            p.put("head_lr_multiplier", mode.headLrMultiplier());
            p.put("trainable_parameters", step.trainableParams().size());
            p.put("max_length", tokenizer.maxLength());
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("train", Map.of("description", trainData.description(), "examples", shard.numExamples()));
            if (evalData != null) {
                data.put("eval", Map.of("description", evalData.description(), "examples", evalExamples));
            }
            p.put("data", data);
            if (!initial.isEmpty()) p.put("eval_before_training", initial);
            return p;
        }

        @Override
        public void close() {
            if (optimizer != null) optimizer.close();
            if (hf != null) hf.close();
            if (tokenizer != null) tokenizer.close();
        }
    }
}
