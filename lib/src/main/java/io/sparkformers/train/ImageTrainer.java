package io.sparkformers.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import io.sparkformers.metrics.ClassificationState;
import io.sparkformers.nn.LoadReport;
import io.sparkformers.nn.NoGrad;
import io.sparkformers.nn.ParameterNames;
import io.sparkformers.nn.StateDict;
import io.sparkformers.nn.vision.VisionModel;
import io.sparkformers.nn.vision.VisionModels;
import io.sparkformers.safetensors.SafetensorsCheckpoint;
import io.sparkformers.safetensors.Tensor;
import io.sparkformers.vision.ImageProcessor;
import io.sparkformers.vision.ImageProcessorConfig;
import io.sparkformers.vision.RgbImage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * HF's {@code Trainer} for image classification ({@code run_image_classification.py}), single process: trains a
 * {@link VisionModel} on an {@link ImageDataset} under {@link TrainingArguments} — epochs or max_steps, batch size
 * and gradient accumulation, lr schedule with warm-up, AdamW/SGD with HF's weight-decay groups, global-norm clipping,
 * seed, logging/eval/save strategies, checkpoint rotation, {@code resume_from_checkpoint}, best-model tracking — and
 * leaves in {@code output_dir} the model in HF layout ({@code config.json} with id2label, {@code model.safetensors},
 * {@code preprocessor_config.json}), {@code checkpoint-<step>} folders, {@code train_results.json},
 * {@code eval_results.json}, {@code all_results.json}, {@code trainer_state.json}, {@code provenance.json} and
 * {@code training_curves.png}.
 *
 * <p>Where the model comes from: {@link Builder#config} trains from scratch (initialised with the architecture's own
 * init after {@code torch.manual_seed(seed)}); {@link Builder#pretrained} starts from a checkpoint and, when the
 * data's classes differ from the checkpoint's id2label, replaces the head by a fresh one with as many outputs as
 * classes (HF's {@code ignore_mismatched_sizes=True}, but by label names, not only by shape).
 *
 * <p>Modes ({@link TransferMode}): {@code feature_extraction} freezes the whole base and runs it in eval mode without
 * a graph (BatchNorm statistics and dropout untouched), only the head trains; {@code fine_tune} trains every
 * parameter (BatchNorm in training mode updates its running statistics, as PyTorch); {@code partial} trains the head
 * and the last {@code unfreeze_last_layers} of {@link VisionModel#featureBlocks()} (plus names matching
 * {@code unfreeze_patterns}) with the whole model in training mode. Buffers never reach the optimizer.
 *
 * <p>Exact resumption as {@link Trainer}: seeded data order per epoch ({@link DataSharding}), dropout re-seeded per
 * micro-batch, weights + buffers + optimizer state in each checkpoint. Immutable; each {@link #train} keeps its state
 * in a run object. Single-process: Spark's {@code ImageClassifier} calls it on the driver.
 */
public final class ImageTrainer {
    private static final System.Logger LOG = System.getLogger(ImageTrainer.class.getName());

    private final TrainingArguments args;
    private final Path pretrained;
    private final ObjectNode config;
    private final ImageProcessorConfig processor;
    private final TransferMode mode;
    private final List<TrainerCallback> callbacks;
    private final boolean progress;
    private final Device device;

    private ImageTrainer(Builder b) {
        if ((b.pretrained == null) == (b.config == null)) {
            throw new IllegalArgumentException("give exactly one of pretrained(checkpoint folder) and config(config.json "
                    + "for training from scratch)");
        }
        if (b.config != null && b.mode.kind() != TransferMode.Kind.FINE_TUNE) {
            throw new IllegalArgumentException("mode " + b.mode.kind().configName() + " needs pretrained weights; a "
                    + "model trained from scratch trains with mode fine_tune");
        }
        this.args = b.args;
        this.pretrained = b.pretrained;
        this.config = b.config == null ? null : b.config.deepCopy();
        this.processor = b.processor;
        this.mode = b.mode;
        this.callbacks = List.copyOf(b.callbacks);
        this.progress = b.progress;
        this.device = b.device;
    }

    public static Builder builder(TrainingArguments args) {
        return new Builder(args);
    }

    /** Collects the options of an ImageTrainer; {@link #build()} validates them. */
    public static final class Builder {
        private final TrainingArguments args;
        private Path pretrained;
        private ObjectNode config;
        private ImageProcessorConfig processor;
        private TransferMode mode = TransferMode.fineTune();
        private final List<TrainerCallback> callbacks = new ArrayList<>();
        private boolean progress;
        private Device device = Device.cpu();

        private Builder(TrainingArguments args) {
            this.args = Objects.requireNonNull(args, "args");
        }

        /** Start from a checkpoint folder (config.json, model.safetensors, optional preprocessor_config.json). */
        public Builder pretrained(Path dir) { this.pretrained = dir; return this; }

        /** Train from scratch: a config.json (e.g. {@code CnnConfig.toJson()}); its labels are replaced by the data's. */
        public Builder config(ObjectNode c) { this.config = c; return this; }

        /** The image processor; default: the checkpoint's preprocessor_config.json, else the model type's default. */
        public Builder processor(ImageProcessorConfig p) { this.processor = p; return this; }

        public Builder mode(TransferMode m) { this.mode = Objects.requireNonNull(m, "mode"); return this; }

        public Builder callback(TrainerCallback c) { this.callbacks.add(c); return this; }

        /** Print progress (a bar on a terminal, lines otherwise). */
        public Builder progress(boolean p) { this.progress = p; return this; }

        public Builder device(Device d) { this.device = d; return this; }

        public ImageTrainer build() {
            return new ImageTrainer(this);
        }
    }

    public TrainingArguments args() {
        return args;
    }

    /** Trains on {@code train}, evaluating on {@code eval} (may be null when eval_strategy is "no"). */
    public Trainer.TrainOutput train(ImageDataset train, ImageDataset eval) throws IOException {
        try (Run run = new Run(train, eval)) {
            return run.execute();
        }
    }

    /**
     * Accuracy and friends of a saved image classifier on labelled images (HF {@code Trainer.evaluate}): the
     * checkpoint's id2label must name the dataset's classes in the same order.
     */
    public static Map<String, Double> evaluate(Path modelDir, ImageDataset data, int batchSize) throws IOException {
        try (VisionModels.Loaded m = VisionModels.fromPretrained(modelDir, true)) {
            List<String> names = new ArrayList<>(new TreeMap<>(m.model().id2label()).values());
            if (!names.equals(data.labels())) {
                throw new IllegalArgumentException(modelDir + " predicts " + names + " but " + data.description()
                        + " is labelled " + data.labels() + ": evaluate on data with the model's classes");
            }
            Map<String, Double> metrics = evaluate(m.model(), m.processor(), m.manager(), data, batchSize, 0.0);
            metrics.put("eval_samples", (double) data.size());
            return metrics;
        }
    }

    /** Evaluation in inference mode: eval_loss (example-weighted), eval_accuracy, F1s, MCC, runtime. */
    static Map<String, Double> evaluate(VisionModel model, ImageProcessor processor, NDManager manager,
            ImageDataset data, int batchSize, double labelSmoothing) {
        long t0 = System.nanoTime();
        ClassificationState cls = new ClassificationState(Math.max(2, data.labels().size()));
        double lossSum = 0;
        int steps = 0;
        for (int from = 0; from < data.size(); from += batchSize) {
            int to = Math.min(data.size(), from + batchSize);
            int[] idx = new int[to - from];
            for (int i = 0; i < idx.length; i++) idx[i] = from + i;
            try (NDManager scope = manager.newSubManager()) {
                NDArray x = pixels(scope, processor, data, idx);
                NDArray y = labels(scope, data, idx);
                float[] logits;
                try (TrainingLock.Held lock = TrainingLock.acquire()) {
                    NDArray out = model.predict(new NDList(x)).head();                      // (B, num_labels)
                    try (NoGrad g = NoGrad.enter()) {
                        lossSum += loss(model, out, y, labelSmoothing).getFloat() * idx.length;
                    }
                    logits = out.toFloatArray();
                }
                int[] truth = new int[idx.length];
                for (int i = 0; i < idx.length; i++) truth[i] = data.label(idx[i]);
                cls.addLogits(logits, truth);
                steps++;
            }
        }
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("eval_loss", lossSum / data.size());
        cls.compute().forEach((k, v) -> metrics.put("eval_" + k, v));
        double secs = (System.nanoTime() - t0) / 1e9;
        metrics.put("eval_runtime", Evaluation.round4(secs));
        metrics.put("eval_samples_per_second", Math.round(data.size() / secs * 1000) / 1000.0);
        metrics.put("eval_steps_per_second", Math.round(steps / secs * 1000) / 1000.0);
        return metrics;
    }

    /** pixel_values (B, 3, H, W) of images {@code idx}; an image the processor rejects is named with its index. */
    static NDArray pixels(NDManager scope, ImageProcessor processor, ImageDataset data, int[] idx) {
        List<RgbImage> images = new ArrayList<>(idx.length);
        for (int i : idx) images.add(data.image(i));
        try {
            return processor.pixelValues(scope, images);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(data.description() + ": images " + idx[0] + ".." + idx[idx.length - 1]
                    + ": " + e.getMessage(), e);
        }
    }

    static NDArray labels(NDManager scope, ImageDataset data, int[] idx) {
        long[] y = new long[idx.length];
        for (int i = 0; i < idx.length; i++) y[i] = data.label(idx[i]);
        return scope.create(y, new Shape(idx.length));
    }

    static NDArray loss(VisionModel model, NDArray logits, NDArray labels, double labelSmoothing) {
        return labelSmoothing > 0 ? LabelSmoother.loss(logits, labels, labelSmoothing) : model.loss(logits, labels);
    }

    /** {@code config} with the data's classes as id2label/label2id (and num_classes for the torchvision CNNs). */
    static ObjectNode withLabels(ObjectNode config, List<String> names) {
        ObjectNode c = config.deepCopy();
        ObjectNode id2label = c.putObject("id2label");
        ObjectNode label2id = c.putObject("label2id");
        for (int i = 0; i < names.size(); i++) {
            id2label.put(Integer.toString(i), names.get(i));
            label2id.put(names.get(i), i);
        }
        if (c.has("num_classes")) c.put("num_classes", names.size());
        c.remove("num_labels");
        return c;
    }

    static List<String> id2label(ObjectNode config) {
        Map<Integer, String> m = new TreeMap<>();
        config.path("id2label").fields().forEachRemaining(e -> m.put(Integer.parseInt(e.getKey()), e.getValue().asText()));
        return new ArrayList<>(m.values());
    }

    // ------------------------------------------------------------------------------------------------ one fit

    /** The state of one {@link #train} call; closed at its end. */
    private final class Run implements AutoCloseable {
        private final ImageDataset trainData;
        private final ImageDataset evalData;
        private final Path outputDir = Path.of(args.outputDir());
        private final CheckpointManager checkpoints = new CheckpointManager(outputDir);
        private NDManager manager;
        private VisionModel model;
        private ImageProcessor imageProcessor;
        private LoadReport loadReport;
        private boolean newHead;
        private List<ParamRef> trainable;
        private Optimizer optimizer;
        private TrainingPlan plan;
        private LrSchedule schedule;
        private DataSharding sharding;
        private TrainerState state;
        private final TrainerControl control = new TrainerControl();
        private CallbackHandler handler;
        private Path resumeFrom;
        private double trLoss;
        private double totalLoss;
        private long lastLoggedStep;
        private double lastGradNorm = Double.NaN;

        Run(ImageDataset train, ImageDataset eval) {
            this.trainData = train;
            this.evalData = eval;
        }

        Trainer.TrainOutput execute() throws IOException {
            prepare();
            long start = System.nanoTime();
            long startStep = state.globalStep;
            loop();
            return finish((System.nanoTime() - start) / 1e9, startStep);
        }

        /** Everything that can fail on bad input happens here, before the first step. */
        private void prepare() throws IOException {
            if (trainData == null || trainData.size() == 0) {
                throw new IllegalArgumentException("the training dataset is empty: give labelled images");
            }
            args.validateFor(device);
            boolean needsEval = !"no".equals(args.evalStrategy()) || args.loadBestModelAtEnd();
            if (needsEval && evalData == null) {
                throw new IllegalArgumentException("eval_strategy '" + args.evalStrategy() + "'"
                        + (args.loadBestModelAtEnd() ? " with load_best_model_at_end" : "")
                        + " needs an evaluation dataset: pass one or set eval_strategy to 'no'");
            }
            if (evalData != null && !evalData.labels().equals(trainData.labels())) {
                throw new IllegalArgumentException("the evaluation data (" + evalData.description() + ") has classes "
                        + evalData.labels() + " but the training data (" + trainData.description() + ") has "
                        + trainData.labels() + ": label both with the same class list");
            }
            resumeFrom = CheckpointManager.resolveResume(args).orElse(null);
            if (resumeFrom == null && !args.overwriteOutputDir() && Files.isDirectory(outputDir)) {
                try (Stream<Path> s = Files.list(outputDir)) {
                    if (s.findAny().isPresent()) {
                        throw new IllegalArgumentException("output_dir " + outputDir + " already exists and is not "
                                + "empty: set overwrite_output_dir true, resume_from_checkpoint true, or use another "
                                + "folder");
                    }
                }
            }
            plan = args.plan(trainData.size(), 1);
            sharding = new DataSharding(trainData.size(), args.perDeviceTrainBatchSize(),
                    args.gradientAccumulationSteps(), args.dataloaderDropLast(), args.effectiveDataSeed(), null);
            schedule = args.schedule(plan.maxSteps());
            loadModel();
            buildOptimizer();
            state = TrainerState.start(args, plan);
            if (resumeFrom != null) resumeState();
            List<TrainerCallback> all = new ArrayList<>();
            all.add(new DefaultFlowCallback());
            if (args.reportTo().contains("jsonl")) all.add(new JsonlReporter(outputDir));
            if (progress) all.add(ProgressReporter.forConsole());
            all.addAll(callbacks);
            handler = new CallbackHandler(all);
        }

        private void loadModel() throws IOException {
            List<String> names = trainData.labels();
            ObjectNode cfg;
            Path source = resumeFrom != null ? resumeFrom : pretrained;
            if (source != null) {
                Path file = source.resolve("config.json");
                if (!Files.isRegularFile(file)) {
                    throw new IOException(source + " has no config.json: not a checkpoint folder (expected config.json "
                            + "and model.safetensors, as save_pretrained writes them)");
                }
                ObjectNode saved = Json.readObject(file);
                newHead = !id2label(saved).equals(names);
                if (resumeFrom != null && newHead) {
                    throw new IllegalArgumentException("checkpoint " + resumeFrom + " was trained with labels "
                            + id2label(saved) + " but the data has " + names + ": resume with the same data");
                }
                cfg = withLabels(saved, names);
            } else {
                cfg = withLabels(config, names);
                newHead = true;
            }
            manager = NDManager.newBaseManager(device);
            manager.setName("ImageTrainer");
            try (TrainingLock.Held lock = TrainingLock.acquire()) {
                TrainStep.seedTorch(args.seed());                   // HF set_seed before the model (new head) is built
                model = VisionModels.fromConfig(cfg, true);
                model.initialize(manager);
                if (source != null) {
                    try (SafetensorsCheckpoint w = SafetensorsCheckpoint.open(source)) {
                        Map<String, Tensor> weights = new LinkedHashMap<>(w.readAll());
                        if (newHead) weights.keySet().removeIf(model.headParameterNames()::contains);
                        loadReport = StateDict.load(model, weights, StateDict.Options.HF);
                    }
                }
            }
            ImageProcessorConfig p = processor;
            if (p == null) {
                p = source == null ? VisionModels.defaultProcessor(model)
                        : ImageProcessor.fromDir(source, VisionModels.defaultProcessor(model)).config();
            }
            imageProcessor = new ImageProcessor(p);
            Set<String> train = trainableNames();
            trainable = new ArrayList<>();
            for (Map.Entry<String, ParameterNames.Entry> e : ParameterNames.of(model).entrySet()) {
                if (VisionModel.isBuffer(e.getValue())) continue;
                boolean t = train.contains(e.getKey());
                e.getValue().parameter().freeze(!t);
                if (t) trainable.add(new ParamRef(e.getKey(), e.getValue().parameter().getArray()));
            }
            if (trainable.isEmpty()) throw new IllegalArgumentException("no parameter is trainable");
        }

        /** The parameters the mode trains (buffers never). */
        private Set<String> trainableNames() {
            Set<String> fresh = new LinkedHashSet<>(loadReport == null ? List.of() : loadReport.newlyInitialized());
            Set<String> out = new LinkedHashSet<>();
            switch (mode.kind()) {
                case FINE_TUNE -> out.addAll(model.trainableParameterNames());
                case FEATURE_EXTRACTION -> out.addAll(model.parametersToTrain(0));
                case PARTIAL -> {
                    int blocks = model.featureBlocks().size();
                    if (mode.unfreezeLastLayers() > blocks) {
                        throw new IllegalArgumentException("unfreeze_last_layers " + mode.unfreezeLastLayers()
                                + " exceeds the " + blocks + " feature blocks of " + model.getClass().getSimpleName()
                                + ": use at most " + blocks + " (or mode fine_tune)");
                    }
                    out.addAll(model.parametersToTrain(mode.unfreezeLastLayers()));
                    List<String> all = model.trainableParameterNames();
                    for (String p : mode.unfreezePatterns()) {
                        Pattern re = Pattern.compile(p);
                        List<String> hit = all.stream().filter(n -> re.matcher(n).find()).toList();
                        if (hit.isEmpty()) {
                            throw new IllegalArgumentException("unfreeze pattern '" + p + "' matches no parameter "
                                    + "(names look like " + all.get(0) + ")");
                        }
                        out.addAll(hit);
                    }
                }
                default -> throw new IllegalStateException(mode.kind().toString());
            }
            for (String n : fresh) if (model.trainableParameterNames().contains(n)) out.add(n);
            return out;
        }

        private void buildOptimizer() throws IOException {
            Set<String> head = model.headParameterNames();
            optimizer = Optimizers.create(args, mode.headLrMultiplier(), head::contains, resumeFrom, device);
        }

        private void resumeState() throws IOException {
            TrainerState loaded = TrainerState.load(resumeFrom.resolve(CheckpointManager.TRAINER_STATE_NAME));
            loaded.maxSteps = plan.maxSteps();
            loaded.numTrainEpochs = plan.numTrainEpochs();
            loaded.loggingSteps = plan.loggingSteps();
            loaded.evalSteps = plan.evalSteps();
            loaded.saveSteps = plan.saveSteps();
            state = loaded;
            lastLoggedStep = state.globalStep;
        }

        private void loop() throws IOException {
            handler.onTrainBegin(args, state, control);
            int stepsPerEpoch = sharding.stepsPerEpoch();
            long startEpoch = state.globalStep / stepsPerEpoch;
            long skip = state.globalStep % stepsPerEpoch;
            for (long epoch = startEpoch; epoch < plan.numTrainEpochs() && state.globalStep < plan.maxSteps(); epoch++) {
                List<DataSharding.Step> steps = sharding.steps(epoch);
                handler.onEpochBegin(args, state, control);
                for (int s = (int) (epoch == startEpoch ? skip : 0); s < steps.size(); s++) {
                    handler.onStepBegin(args, state, control);
                    List<int[]> micro = steps.get(s).microBatches();
                    double stepLoss = 0;
                    for (int m = 0; m < micro.size(); m++) {
                        long seed = DataSharding.mix(DataSharding.mix(args.seed(), state.globalStep), m);
                        stepLoss += forwardBackward(micro.get(m), 1.0 / micro.size(), seed) / micro.size();
                    }
                    lastGradNorm = applyUpdate(schedule.multiplier(state.globalStep));
                    trLoss += stepLoss;
                    state.globalStep++;
                    state.epoch = epoch + (s + 1) / (double) stepsPerEpoch;
                    handler.onStepEnd(args, state, control);
                    maybeLogSaveEvaluate(epoch, s + 1);
                    if (control.shouldEpochStop || control.shouldTrainingStop) break;
                }
                handler.onEpochEnd(args, state, control);
                maybeLogSaveEvaluate(epoch + 1, 0);
                if (control.shouldTrainingStop) break;
            }
        }

        /**
         * Forward + loss + backward of one micro-batch; gradients of {@code scale × loss} add up in the trainable
         * parameters. Feature extraction runs the base in eval mode without a graph, then the head with one.
         */
        private double forwardBackward(int[] idx, double scale, long dropoutSeed) {
            try (TrainingLock.Held lock = TrainingLock.acquire(); NDManager scope = manager.newSubManager()) {
                NDArray x = pixels(scope, imageProcessor, trainData, idx);                 // (B, 3, H, W)
                NDArray y = labels(scope, trainData, idx);                                 // (B)
                TrainStep.seedTorch(dropoutSeed);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    ParameterStore ps = new ParameterStore(scope, false);
                    NDArray logits;
                    if (mode.kind() == TransferMode.Kind.FEATURE_EXTRACTION) {
                        NDArray features;
                        try (NoGrad g = NoGrad.enter()) {
                            features = model.forwardFeatures(ps, x, false);                // (B, D), frozen, eval mode
                        }
                        logits = model.head(ps, features, true);                           // (B, num_labels)
                    } else {
                        logits = model.forward(ps, new NDList(x), true).head();            // (B, num_labels)
                    }
                    NDArray loss = loss(model, logits, y, args.labelSmoothingFactor());
                    double value = loss.getFloat();
                    gc.backward(scale == 1.0 ? loss : loss.mul(scale));
                    return value;
                }
            }
        }

        /** Clip, step at the scheduled lr, zero grads; the norm before clipping, or NaN with clipping off. */
        private double applyUpdate(double lrMultiplier) {
            try (TrainingLock.Held lock = TrainingLock.acquire()) {
                double maxNorm = args.maxGradNorm();
                double norm = maxNorm > 0 ? GradientClipping.clipGradNormOfParams(trainable, maxNorm) : Double.NaN;
                optimizer.setLrMultiplier(lrMultiplier);
                optimizer.step(trainable);
                Optimizer.zeroGrad(trainable);
                return norm;
            }
        }

        /** HF {@code _maybe_log_save_evaluate}. */
        private void maybeLogSaveEvaluate(long epoch, long stepInEpoch) throws IOException {
            if (control.shouldLog && state.globalStep > lastLoggedStep) {
                Map<String, Object> logs = new LinkedHashMap<>();
                logs.put("loss", Evaluation.round4(trLoss / (state.globalStep - lastLoggedStep)));
                if (!Double.isNaN(lastGradNorm)) logs.put("grad_norm", lastGradNorm);
                logs.put("learning_rate", args.learningRate() * schedule.multiplier(state.globalStep));
                totalLoss += trLoss;
                trLoss = 0;
                lastLoggedStep = state.globalStep;
                handler.onLog(args, state, control, state.log(logs));
            }
            if (control.shouldEvaluate) {
                Map<String, Double> metrics = evaluate(true);
                boolean newBest = state.updateBestMetric(args, metrics, outputDir);
                if ("best".equals(args.saveStrategy())) control.shouldSave = newBest;
            }
            if (control.shouldSave) {
                saveCheckpoint(epoch, stepInEpoch);
                handler.onSave(args, state, control);
            }
        }

        private Map<String, Double> evaluate(boolean duringTraining) {
            Map<String, Double> metrics = ImageTrainer.evaluate(model, imageProcessor, manager, evalData,
                    args.perDeviceEvalBatchSize(), args.labelSmoothingFactor());
            if (duringTraining) {
                handler.onLog(args, state, control, state.log(metrics));
                handler.onEvaluate(args, state, control, metrics);
            }
            return metrics;
        }

        private void saveCheckpoint(long epoch, long stepInEpoch) throws IOException {
            state.statefulCallbacks.put("TrainerControl", control.state());
            RngState rng = new RngState(args.seed(), args.effectiveDataSeed(), epoch, stepInEpoch,
                    Map.of("dropout_step", state.globalStep));
            checkpoints.save(state.globalStep, dir -> {
                VisionModels.savePretrained(model, imageProcessor.config(), dir);
                Trainer.writeCheckpointFiles(dir, optimizer, schedule, state, rng, args);
            });
            checkpoints.rotate(args.saveTotalLimit(), state.bestModelCheckpoint);
        }

        private Trainer.TrainOutput finish(double runtime, long startStep) throws IOException {
            if (args.loadBestModelAtEnd() && state.bestModelCheckpoint != null) loadBest();
            totalLoss += trLoss;
            double trainLoss = totalLoss / Math.max(state.globalStep - startStep, 1);
            long numSamples = args.maxSteps() > 0 ? plan.maxSteps() * plan.totalTrainBatchSize()
                    : (long) (trainData.size() * args.numTrainEpochs());
            Map<String, Object> metrics = new LinkedHashMap<>();
            metrics.put("train_runtime", Evaluation.round4(runtime));
            metrics.put("train_samples_per_second", Math.round(numSamples / runtime * 1000) / 1000.0);
            metrics.put("train_steps_per_second", Math.round(plan.maxSteps() / runtime * 1000) / 1000.0);
            metrics.put("total_flos", state.totalFlos);
            metrics.put("train_loss", trainLoss);
            handler.onLog(args, state, control, state.log(metrics));
            handler.onTrainEnd(args, state, control);

            VisionModels.savePretrained(model, imageProcessor.config(), outputDir);
            args.writeJson(outputDir.resolve(CheckpointManager.TRAINING_ARGS_NAME));
            Map<String, Object> train = new LinkedHashMap<>(metrics);
            train.put("epoch", state.epoch);
            train.put("train_samples", trainData.size());
            train.put("trainable_parameters", trainableCount());
            Map<String, Object> all = new LinkedHashMap<>(train);
            writeJson(outputDir.resolve("train_results.json"), train);
            state.save(outputDir.resolve(CheckpointManager.TRAINER_STATE_NAME));
            Map<String, Double> eval = new LinkedHashMap<>();
            if (evalData != null) {
                eval.putAll(evaluate(true));
                eval.put("eval_samples", (double) evalData.size());
                Map<String, Object> evalOut = new LinkedHashMap<>(eval);
                evalOut.put("epoch", state.epoch);
                writeJson(outputDir.resolve("eval_results.json"), evalOut);
                all.putAll(evalOut);
            }
            writeJson(outputDir.resolve("all_results.json"), all);
            writeProvenance();
            TrainingCurves.write(outputDir.resolve(Trainer.CURVES), state.logHistory, "accuracy");
            return new Trainer.TrainOutput(state.globalStep, trainLoss, train, eval, Map.of(), outputDir,
                    state.bestModelCheckpoint);
        }

        private long trainableCount() {
            long n = 0;
            for (ParamRef p : trainable) n += p.value().size();
            return n;
        }

        private void loadBest() throws IOException {
            Path best = Path.of(state.bestModelCheckpoint);
            if (!Files.isDirectory(best)) {
                LOG.log(System.Logger.Level.WARNING, "best checkpoint " + best + " is gone; keeping the last weights");
                return;
            }
            try (TrainingLock.Held lock = TrainingLock.acquire(); SafetensorsCheckpoint w = SafetensorsCheckpoint.open(best)) {
                StateDict.load(model, w.readAll(), StateDict.Options.STRICT);
            }
        }

        private void writeProvenance() throws IOException {
            Map<String, Object> p = new LinkedHashMap<>();
            String version = ImageTrainer.class.getPackage().getImplementationVersion();
            p.put("library", "sparkformers");
            p.put("library_version", version == null ? "dev" : version);
            p.put("created", Instant.now().toString());
            p.put("source_checkpoint", pretrained == null ? null : pretrained.toAbsolutePath().normalize().toString());
            p.put("from_scratch", pretrained == null);
            p.put("new_head", newHead);
            p.put("resumed_from", resumeFrom == null ? null : resumeFrom.toString());
            p.put("task", "image-classification");
            p.put("model_type", model.configJson().path("model_type").asText());
            p.put("labels", trainData.labels());
            p.put("mode", mode.kind().configName());
            p.put("unfreeze_last_layers", mode.unfreezeLastLayers());
            p.put("unfreeze_patterns", mode.unfreezePatterns());
            p.put("head_lr_multiplier", mode.headLrMultiplier());
            p.put("trainable_parameters", trainableCount());
            p.put("trainable_tensors", trainable.size());
            p.put("seed", args.seed());
            p.put("data_seed", args.effectiveDataSeed());
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("train", Map.of("description", trainData.description(), "examples", trainData.size()));
            if (evalData != null) {
                data.put("eval", Map.of("description", evalData.description(), "examples", evalData.size()));
            }
            p.put("data", data);
            p.put("training_args", args.toMap());
            writeJson(outputDir.resolve(Trainer.PROVENANCE), p);
        }

        private void writeJson(Path file, Map<String, ?> m) throws IOException {
            Files.createDirectories(file.getParent());
            Json.write(file, Json.MAPPER.valueToTree(m));
        }

        @Override
        public void close() {
            if (optimizer != null) optimizer.close();
            if (manager != null) manager.close();
        }
    }

}
