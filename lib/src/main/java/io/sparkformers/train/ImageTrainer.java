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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * HF's {@code Trainer} for image classification ({@code run_image_classification.py}): trains a
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
 * in a run object. The loop is {@link Trainer}'s ({@code TrainingRun}); with {@link Builder#dataParallel} every replica
 * runs it on a {@link Shard} of the images (Spark's {@code ImageClassifier} runs one replica per barrier task), and
 * rank 0's float BatchNorm buffers are broadcast before every step and evaluation (DDP's {@code broadcast_buffers}).
 */
public final class ImageTrainer {

    private final TrainingArguments args;
    private final Path pretrained;
    private final ObjectNode config;
    private final ImageProcessorConfig processor;
    private final TransferMode mode;
    private final List<TrainerCallback> callbacks;
    private final boolean progress;
    private final Device device;
    private final DataParallel dp;
    private final int checkConsistencyEverySteps;

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
        this.dp = b.dataParallel;
        this.checkConsistencyEverySteps = TrainingRun.requireConsistencyInterval(b.checkConsistencyEverySteps);
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
        private DataParallel dataParallel = DataParallel.SINGLE;
        private int checkConsistencyEverySteps = 100;

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

        /** Print progress to standard error on rank 0 ({@link ProgressReporter}: a bar on a terminal, a line per log
         * otherwise); off by default. */
        public Builder progress(boolean p) { this.progress = p; return this; }

        public Builder device(Device d) { this.device = d; return this; }

        /** The replica group of a data-parallel run (default {@link DataParallel#SINGLE}: one process). */
        public Builder dataParallel(DataParallel d) { this.dataParallel = Objects.requireNonNull(d); return this; }

        /** Steps between checks that all replicas hold bit-identical trainable weights (default 100; 0 = never). */
        public Builder checkConsistencyEverySteps(int n) { this.checkConsistencyEverySteps = n; return this; }

        public ImageTrainer build() {
            return new ImageTrainer(this);
        }
    }

    public TrainingArguments args() {
        return args;
    }

    /**
     * The training images one replica holds: {@code rows} image k is example {@code indices[k]} of the
     * {@code numExamples} of the whole training set; every micro-batch {@link DataSharding} gives this rank must be
     * among them. {@link #all} is the whole set (one process).
     */
    public record Shard(ImageDataset rows, int[] indices, int numExamples) {
        public Shard {
            Objects.requireNonNull(rows, "rows");
            Trainer.Shard.checkIndices(indices, rows.size(), numExamples);
        }

        public static Shard all(ImageDataset rows) {
            return new Shard(rows, Trainer.Shard.identity(rows.size()), rows.size());
        }
    }

    /** Trains on {@code train}, evaluating on {@code eval} (may be null when eval_strategy is "no"). */
    public Trainer.TrainOutput train(ImageDataset train, ImageDataset eval) throws IOException {
        if (train == null) throw new IllegalArgumentException("no training dataset given");
        return train(Shard.all(train), eval);
    }

    /**
     * One replica's part of a data-parallel fit ({@link Builder#dataParallel}): its {@code train} rows and its share
     * of the evaluation images (disjoint across ranks, possibly empty; null when eval_strategy is "no").
     */
    public Trainer.TrainOutput train(Shard train, ImageDataset eval) throws IOException {
        try (Run run = new Run(train, eval)) {
            return run.execute(false);
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
            Map<String, Double> metrics = Evaluation.metrics(List.of(
                    evaluatePartial(m.model(), m.processor(), m.manager(), data, batchSize, 0.0)));
            metrics.put("eval_samples", (double) data.size());
            return metrics;
        }
    }

    /** This replica's share of an evaluation in inference mode (possibly no image): losses, counts, the metric state. */
    static Evaluation.Partial evaluatePartial(VisionModel model, ImageProcessor processor, NDManager manager,
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
        return new Evaluation.Partial(lossSum, data.size(), steps, cls, (System.nanoTime() - t0) / 1e9);
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

    /** One {@link #train} call: the image side of {@link TrainingRun}; closed at its end. */
    private final class Run extends TrainingRun {
        private final Shard shard;
        private final ImageDataset trainData;
        private final ImageDataset evalData;
        private int[] rowOf;                                 // global example index -> row of trainData, -1 elsewhere
        private NDManager manager;
        private VisionModel model;
        private ImageProcessor imageProcessor;
        private LoadReport loadReport;
        private boolean newHead;
        private List<ParamRef> trainable;
        private List<NDArray> floatBuffers;

        Run(Shard train, ImageDataset eval) {
            super(ImageTrainer.this.args, ImageTrainer.this.dp, ImageTrainer.this.checkConsistencyEverySteps);
            this.shard = train;
            this.trainData = train == null ? null : train.rows();
            this.evalData = eval;
        }

        @Override
        void prepare() throws IOException {
            if (trainData == null || shard.numExamples() == 0) {
                throw new IllegalArgumentException("the training dataset is empty: give labelled images");
            }
            checkArguments(device, evalData != null, null, 0);
            if (evalData != null && !evalData.labels().equals(trainData.labels())) {
                throw new IllegalArgumentException("the evaluation data (" + evalData.description() + ") has classes "
                        + evalData.labels() + " but the training data (" + trainData.description() + ") has "
                        + trainData.labels() + ": label both with the same class list");
            }
            rowOf = new int[shard.numExamples()];
            java.util.Arrays.fill(rowOf, -1);
            for (int k = 0; k < shard.indices().length; k++) rowOf[shard.indices()[k]] = k;
            planSteps(shard.numExamples(), null);
            loadModel();
            Set<String> head = model.headParameterNames();
            optimizer = Optimizers.create(args, mode.headLrMultiplier(), head::contains, resumeFrom, device);
            startState(callbacks, progress);
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
            floatBuffers = new ArrayList<>();
            for (Map.Entry<String, ParameterNames.Entry> e : ParameterNames.of(model).entrySet()) {
                NDArray value = e.getValue().parameter().getArray();
                if (VisionModel.isBuffer(e.getValue())) {
                    if (value.getDataType() == ai.djl.ndarray.types.DataType.FLOAT32) floatBuffers.add(value);
                    continue;
                }
                boolean t = train.contains(e.getKey());
                e.getValue().parameter().freeze(!t);
                if (t) trainable.add(new ParamRef(e.getKey(), value));
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

        /** DDP's broadcast_buffers: every replica runs each step with rank 0's BatchNorm statistics. */
        @Override
        void broadcastBuffers() throws IOException {
            if (!floatBuffers.isEmpty()) dp.broadcastFromMain(floatBuffers);
        }

        /**
         * Forward + loss + backward of one micro-batch; gradients of {@code scale × loss} add up in the trainable
         * parameters. Feature extraction runs the base in eval mode without a graph, then the head with one.
         */
        @Override
        Micro forwardBackward(int[] examples, double scale, long dropoutSeed) {
            int[] idx = new int[examples.length];
            for (int i = 0; i < idx.length; i++) {
                idx[i] = rowOf[examples[i]];
                if (idx[i] < 0) {
                    throw new IllegalStateException("rank " + dp.rank() + " was not given training image "
                            + examples[i] + " that its micro-batches need: the shard does not follow DataSharding's "
                            + "order");
                }
            }
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
                    return new Micro(value, idx.length);
                }
            }
        }

        @Override
        List<ParamRef> trainable() {
            return trainable;
        }

        @Override
        Evaluation.Partial evaluatePartial() {
            return ImageTrainer.evaluatePartial(model, imageProcessor, manager, evalData, args.perDeviceEvalBatchSize(),
                    args.labelSmoothingFactor());
        }

        @Override
        boolean hasEvalData() {
            return evalData != null;
        }

        @Override
        void saveModel(Path dir) throws IOException {
            VisionModels.savePretrained(model, imageProcessor.config(), dir);
        }

        @Override
        void loadWeights(Path checkpoint) throws IOException {
            try (TrainingLock.Held lock = TrainingLock.acquire();
                 SafetensorsCheckpoint w = SafetensorsCheckpoint.open(checkpoint)) {
                StateDict.load(model, w.readAll(), StateDict.Options.STRICT);
            }
        }

        @Override
        int numExamples() {
            return shard.numExamples();
        }

        @Override
        String curveMetric() {
            return "accuracy";
        }

        @Override
        void addTrainResults(Map<String, Object> train) {
            train.put("trainable_parameters", trainableCount());
        }

        @Override
        Map<String, Object> provenance(Map<String, Double> initial) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("source_checkpoint", pretrained == null ? null : pretrained.toAbsolutePath().normalize().toString());
            p.put("from_scratch", pretrained == null);
            p.put("new_head", newHead);
            p.put("task", "image-classification");
            p.put("model_type", model.configJson().path("model_type").asText());
            p.put("labels", trainData.labels());
            p.put("mode", mode.kind().configName());
            p.put("unfreeze_last_layers", mode.unfreezeLastLayers());
            p.put("unfreeze_patterns", mode.unfreezePatterns());
            p.put("head_lr_multiplier", mode.headLrMultiplier());
            p.put("trainable_parameters", trainableCount());
            p.put("trainable_tensors", trainable.size());
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("train", Map.of("description", trainData.description(), "examples", shard.numExamples()));
            if (evalData != null) {
                data.put("eval", Map.of("description", evalData.description(), "examples", evalExamples));
            }
            p.put("data", data);
            return p;
        }

        @Override
        public void close() {
            if (optimizer != null) optimizer.close();
            if (manager != null) manager.close();
        }
    }

}
