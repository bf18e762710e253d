package io.sparkformers.train;

import ai.djl.Device;
import io.sparkformers.nn.Task;
import io.sparkformers.safetensors.SafetensorsWriter;
import io.sparkformers.train.DataCollatorWithPadding.LabelKind;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * HF's {@code Trainer}, one for every task, in one process or as one replica of a data-parallel fit:
 * {@code train(trainData, evalData)} trains under {@link TrainingArguments} and leaves, in {@code output_dir}, what
 * HF's example scripts leave — the model in HF layout (config with id2label/label2id, model.safetensors, tokenizer or
 * image-processor files), {@code checkpoint-<step>} folders, {@code train_results.json}, {@code eval_results.json},
 * {@code all_results.json}, {@code trainer_state.json} — plus {@code provenance.json}, {@code training_curves.png}
 * and, with {@code report_to: jsonl}, {@code log_history.jsonl}.
 *
 * <p>Model-agnostic as HF's: the {@link TrainingTask} brings the model, the data collator, {@code compute_loss}
 * ({@link TrainingLoss}) and the evaluation's mergeable metric state — text classification
 * ({@link TrainingTask#textClassification}: sequence single-label, multi-label, regression, and token
 * classification; {@link #builder(TrainingArguments, Path)} is its shorthand) and image classification
 * ({@link TrainingTask#imageClassification}, {@link TrainingTask#imageClassificationFromScratch}). The loop is the
 * same for all ({@link TrainingRun}).
 *
 * <p>Semantics follow HF's {@code _inner_training_loop}: gradient accumulation with the loss scaled by
 * {@code 1/accumulation}, linear/cosine/… schedules with warm-up stepped per optimizer step, AdamW or SGD with no
 * weight decay on biases and LayerNorm, global-norm clipping, log entries {@code loss} (mean over the logging
 * interval, rounded to 4 digits), {@code grad_norm}, {@code learning_rate}, {@code epoch}; evaluation and saving by
 * strategy, best-metric tracking, HF's checkpoint rotation, {@code load_best_model_at_end}, callbacks.
 *
 * <p>Exact resumption: data order comes from {@link DataSharding} (seeded per epoch), dropout is re-seeded per
 * micro-batch from (seed, step, micro-batch), and the checkpoint holds weights (and buffers) and optimizer state bit
 * for bit, so stopping after checkpoint N and resuming gives the weights of the uninterrupted run. Differences from
 * HF: the last optimizer step of an epoch also takes the micro-batches left over by accumulation; {@code train_loss}
 * averages the steps of this run.
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
    private final TrainingTask task;
    private final TransferMode mode;
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
        this.task = b.task != null
                ? b.task
                : TrainingTask.textClassification(b.model, b.textTask, b.labelKind, b.labels, b.maxLength);
        this.mode = b.mode;
        this.callbacks = List.copyOf(b.callbacks);
        this.earlyStoppingPatience = b.earlyStoppingPatience;
        this.earlyStoppingThreshold = b.earlyStoppingThreshold;
        this.progress = b.progress;
        this.evalBeforeTraining = b.evalBeforeTraining;
        this.device = b.device;
        this.dp = b.dataParallel;
        this.checkConsistencyEverySteps = TrainingRun.requireConsistencyInterval(b.checkConsistencyEverySteps);
        task.checkMode(mode);
    }

    /**
     * A Trainer of text classification ({@link TrainingTask#textClassification}), refined by {@link Builder#task},
     * {@link Builder#labelKind}, {@link Builder#labels} and {@link Builder#maxLength}.
     *
     * @param args  the training arguments
     * @param model a checkpoint folder in HF layout (a built-in alias is resolved by the caller)
     */
    public static Builder builder(TrainingArguments args, Path model) {
        return new Builder(args, Objects.requireNonNull(model, "model"), null);
    }

    /** A Trainer of any task, e.g. {@link TrainingTask#imageClassification}. */
    public static Builder builder(TrainingArguments args, TrainingTask task) {
        return new Builder(args, null, Objects.requireNonNull(task, "task"));
    }

    /** Collects the options of a Trainer; {@link #build()} validates them. */
    public static final class Builder {
        private final TrainingArguments args;
        private final Path model;
        private final TrainingTask task;
        private Task textTask = Task.SEQUENCE_CLASSIFICATION;
        private LabelKind labelKind;
        private List<String> labels;
        private int maxLength = 128;
        private TransferMode mode = TransferMode.fineTune();
        private final List<TrainerCallback> callbacks = new ArrayList<>();
        private Integer earlyStoppingPatience;
        private double earlyStoppingThreshold;
        private boolean progress;
        private boolean evalBeforeTraining;
        private Device device = Device.cpu();
        private DataParallel dataParallel = DataParallel.SINGLE;
        private int checkConsistencyEverySteps = 100;

        private Builder(TrainingArguments args, Path model, TrainingTask task) {
            this.args = Objects.requireNonNull(args, "args");
            this.model = model;
            this.task = task;
        }

        /** Text: SEQUENCE_CLASSIFICATION (default) or TOKEN_CLASSIFICATION. */
        public Builder task(Task t) {
            this.textTask = textOption(t);
            return this;
        }

        /** Text: SINGLE_LABEL (default), MULTI_LABEL or REGRESSION for sequence classification (HF problem_type). */
        public Builder labelKind(LabelKind k) {
            this.labelKind = textOption(k);
            return this;
        }

        /** Text: the class names in id order; default: sorted unique labels of the training data. */
        public Builder labels(List<String> l) {
            this.labels = textOption(l);
            return this;
        }

        /** Text: tokens kept per example (HF {@code max_length}, default 128; capped by the tokenizer's own limit). */
        public Builder maxLength(int n) {
            this.maxLength = textOption(n);
            return this;
        }

        private <T> T textOption(T value) {
            if (task != null) {
                throw new IllegalStateException("task, labelKind, labels and maxLength refine the text task of "
                        + "builder(args, model); a TrainingTask given to builder(args, task) carries its own");
            }
            return value;
        }

        public Builder mode(TransferMode m) {
            this.mode = Objects.requireNonNull(m, "mode");
            return this;
        }

        /** A callback; stateless or fresh per Trainer (EarlyStopping: use {@link #earlyStopping}). */
        public Builder callback(TrainerCallback c) {
            this.callbacks.add(c);
            return this;
        }

        /** HF's EarlyStoppingCallback, a fresh one per fit. */
        public Builder earlyStopping(int patience, double threshold) {
            this.earlyStoppingPatience = patience;
            this.earlyStoppingThreshold = threshold;
            return this;
        }

        /** Print progress to standard error on rank 0 ({@link ProgressReporter}: a bar on a terminal, a line per log
         * otherwise); off by default. */
        public Builder progress(boolean p) {
            this.progress = p;
            return this;
        }

        /** Also evaluate the untrained model (the new head) before the first step: {@link TrainOutput#initialEval}. */
        public Builder evalBeforeTraining(boolean e) {
            this.evalBeforeTraining = e;
            return this;
        }

        public Builder device(Device d) {
            this.device = d;
            return this;
        }

        /** The replica group of a data-parallel run (default {@link DataParallel#SINGLE}: one process). */
        public Builder dataParallel(DataParallel d) {
            this.dataParallel = Objects.requireNonNull(d);
            return this;
        }

        /** Steps between checks that all replicas hold bit-identical trainable weights (default 100; 0 = never). */
        public Builder checkConsistencyEverySteps(int n) {
            this.checkConsistencyEverySteps = n;
            return this;
        }

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
    public record TrainOutput(
            long globalStep,
            double trainingLoss,
            Map<String, Object> trainMetrics,
            Map<String, Double> evalMetrics,
            Map<String, Double> initialEval,
            Path outputDir,
            String bestCheckpoint) {}

    public TrainingArguments args() {
        return args;
    }

    TrainingTask task() {
        return task;
    }

    TransferMode mode() {
        return mode;
    }

    List<TrainerCallback> callbacks() {
        return callbacks;
    }

    Integer earlyStoppingPatience() {
        return earlyStoppingPatience;
    }

    double earlyStoppingThreshold() {
        return earlyStoppingThreshold;
    }

    boolean progress() {
        return progress;
    }

    Device device() {
        return device;
    }

    DataParallel dataParallel() {
        return dp;
    }

    int checkConsistencyEverySteps() {
        return checkConsistencyEverySteps;
    }

    /**
     * The training rows one replica holds: {@code rows} row k is example {@code indices[k]} of the {@code numExamples}
     * of the whole training set. A replica needs the rows of every micro-batch {@link DataSharding} gives its rank in
     * the epochs it runs; {@link #all} is the whole set (one process).
     */
    public record Shard(TrainingDataset rows, int[] indices, int numExamples) {
        public Shard {
            Objects.requireNonNull(rows, "rows");
            if (indices.length != rows.size()) {
                throw new IllegalArgumentException(rows.size() + " rows but " + indices.length + " indices");
            }
            for (int i : indices) {
                if (i < 0 || i >= numExamples) {
                    throw new IllegalArgumentException("row index " + i + " is outside 0.." + (numExamples - 1));
                }
            }
        }

        public static Shard all(TrainingDataset rows) {
            int[] idx = new int[rows.size()];
            for (int i = 0; i < idx.length; i++) idx[i] = i;
            return new Shard(rows, idx, rows.size());
        }
    }

    /** Trains on {@code train}, evaluating on {@code eval} (may be null when eval_strategy is "no"). */
    public TrainOutput train(TrainingDataset train, TrainingDataset eval) throws IOException {
        if (train == null) throw new IllegalArgumentException("no training dataset given");
        return train(Shard.all(train), eval);
    }

    /**
     * One replica's part of a data-parallel fit: its {@code train} rows, and its share of the evaluation rows (disjoint
     * across ranks, possibly empty; null when eval_strategy is "no").
     */
    public TrainOutput train(Shard train, TrainingDataset eval) throws IOException {
        try (TrainingRun run = new TrainingRun(this, train, eval)) {
            return run.execute(evalBeforeTraining);
        }
    }

    /**
     * Evaluates a fine-tuned text checkpoint on labelled rows, as {@code Trainer(model).evaluate(dataset)}: the label
     * kind and names come from the checkpoint's config (problem_type, id2label).
     */
    public static Map<String, Double> evaluate(Path modelDir, TextDataset data, int maxLength, int batchSize)
            throws IOException {
        return TextClassificationTask.evaluate(modelDir, data, maxLength, batchSize);
    }

    /**
     * Accuracy and friends of a saved image classifier on labelled images (HF {@code Trainer.evaluate}): the
     * checkpoint's id2label must name the dataset's classes in the same order.
     */
    public static Map<String, Double> evaluate(Path modelDir, ImageDataset data, int batchSize) throws IOException {
        return ImageClassificationTask.evaluate(modelDir, data, batchSize);
    }

    /**
     * Writes the files of a {@code checkpoint-<step>} folder besides the model: optimizer.safetensors,
     * scheduler.json, trainer_state.json, rng_state.json, training_args.json. Shared with the distributed trainer.
     */
    public static void writeCheckpointFiles(
            Path dir,
            Optimizer optimizer,
            LrSchedule schedule,
            TrainerState state,
            RngState rng,
            TrainingArguments args)
            throws IOException {
        SafetensorsWriter.write(
                dir.resolve(CheckpointManager.OPTIMIZER_NAME),
                optimizer.stateDict(),
                Map.of("format", "pt", "optimizer", optimizer.getClass().getSimpleName()));
        List<Double> baseLrs = new ArrayList<>();
        for (ParamGroup g : optimizer.groups()) baseLrs.add(g.lr());
        SchedulerState.after(state.globalStep, baseLrs, schedule).save(dir.resolve(CheckpointManager.SCHEDULER_NAME));
        state.save(dir.resolve(CheckpointManager.TRAINER_STATE_NAME));
        rng.save(dir.resolve(CheckpointManager.RNG_STATE_NAME));
        args.writeJson(dir.resolve(CheckpointManager.TRAINING_ARGS_NAME));
    }
}
