package io.sparkformers.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
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
import io.sparkformers.train.DataCollatorWithPadding.LabelKind;
import io.sparkformers.vision.ImageProcessor;
import io.sparkformers.vision.ImageProcessorConfig;
import io.sparkformers.vision.RgbImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Image classification for the {@link Trainer} ({@code run_image_classification.py}): a {@link VisionModel} on an
 * {@link ImageDataset}; the collator is the image processor's pixel batch, the loss cross-entropy (with HF's label
 * smoothing), the metrics {@link ClassificationState}'s. The saved model is config.json with id2label,
 * model.safetensors and preprocessor_config.json.
 *
 * <p>Where the model comes from: a checkpoint ({@link TrainingTask#imageClassification}) whose head is replaced by a
 * fresh one when the data's classes differ from its id2label (HF's {@code ignore_mismatched_sizes=True}, but by label
 * names, not only by shape); or a config trained from scratch ({@link TrainingTask#imageClassificationFromScratch},
 * the architecture's own init after {@code torch.manual_seed(seed)}).
 *
 * <p>Modes ({@link TransferMode}): {@code feature_extraction} freezes the whole base and runs it in eval mode without
 * a graph (BatchNorm statistics and dropout untouched), only the head trains; {@code fine_tune} trains every
 * parameter (BatchNorm in training mode updates its running statistics, as PyTorch); {@code partial} trains the head
 * and the last {@code unfreeze_last_layers} of {@link VisionModel#featureBlocks()} (plus names matching
 * {@code unfreeze_patterns}) with the whole model in training mode. Buffers never reach the optimizer; with several
 * replicas rank 0's float BatchNorm buffers are broadcast before every step and evaluation (DDP's
 * {@code broadcast_buffers}).
 */
final class ImageClassificationTask extends TrainingTask {

    private final Path pretrained;
    private final ObjectNode config;
    private final ImageProcessorConfig processor;

    ImageClassificationTask(Path pretrained, ObjectNode config, ImageProcessorConfig processor) {
        this.pretrained = pretrained;
        this.config = config;
        this.processor = processor;
    }

    @Override
    void checkMode(TransferMode mode) {
        if (config != null && mode.kind() != TransferMode.Kind.FINE_TUNE) {
            throw new IllegalArgumentException("mode " + mode.kind().configName() + " needs pretrained weights; a "
                    + "model trained from scratch trains with mode fine_tune");
        }
    }

    @Override
    TaskFit start(TrainingRun run, Trainer.Shard train, TrainingDataset eval) throws IOException {
        return TaskFit.started(new Fit(
                run,
                train,
                require(train.rows(), ImageDataset.class, "image classification"),
                require(eval, ImageDataset.class, "image classification")));
    }

    /**
     * Accuracy and friends of a saved image classifier on labelled images (HF {@code Trainer.evaluate}): the
     * checkpoint's id2label must name the dataset's classes in the same order.
     */
    static Map<String, Double> evaluate(Path modelDir, ImageDataset data, int batchSize) throws IOException {
        try (VisionModels.Loaded m = VisionModels.fromPretrained(modelDir, true)) {
            List<String> names = new ArrayList<>(new TreeMap<>(m.model().id2label()).values());
            if (!names.equals(data.labels())) {
                throw new IllegalArgumentException(modelDir + " predicts " + names + " but " + data.description()
                        + " is labelled " + data.labels() + ": evaluate on data with the model's classes");
            }
            Map<String, Double> metrics = Evaluation.metrics(
                    List.of(evaluatePartial(m.model(), m.processor(), m.manager(), data, batchSize, 0.0)));
            metrics.put("eval_samples", (double) data.size());
            return metrics;
        }
    }

    /** This replica's share of an evaluation in inference mode (possibly no image): losses, counts, the metric state. */
    private static Evaluation.Partial evaluatePartial(
            VisionModel model,
            ImageProcessor processor,
            NDManager manager,
            ImageDataset data,
            int batchSize,
            double labelSmoothing) {
        long t0 = System.nanoTime();
        TrainingLoss loss = TrainingLoss.forLabelKind(LabelKind.SINGLE_LABEL, labelSmoothing);
        ClassificationState cls =
                new ClassificationState(Math.max(2, data.labels().size()));
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
                    NDArray out = model.predict(new NDList(x)).head(); // (B, num_labels)
                    try (NoGrad g = NoGrad.enter()) {
                        lossSum += loss.compute(out, y).getFloat() * idx.length;
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
    private static NDArray pixels(NDManager scope, ImageProcessor processor, ImageDataset data, int[] idx) {
        List<RgbImage> images = new ArrayList<>(idx.length);
        for (int i : idx) images.add(data.image(i));
        try {
            return processor.pixelValues(scope, images);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    data.description() + ": images " + idx[0] + ".." + idx[idx.length - 1] + ": " + e.getMessage(), e);
        }
    }

    private static NDArray labels(NDManager scope, ImageDataset data, int[] idx) {
        long[] y = new long[idx.length];
        for (int i = 0; i < idx.length; i++) y[i] = data.label(idx[i]);
        return scope.create(y, new Shape(idx.length));
    }

    /** {@code config} with the data's classes as id2label/label2id (and num_classes for the torchvision CNNs). */
    private static ObjectNode withLabels(ObjectNode config, List<String> names) {
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

    // ------------------------------------------------------------------------------------------------ one fit

    /** One fit: the model, its processor, the trainable parameters and buffers. */
    private final class Fit extends TaskFit {
        private final TrainingRun run;
        private final Trainer.Shard shard;
        private final ImageDataset trainData;
        private final ImageDataset evalData;
        private int[] rowOf; // global example index -> row of trainData, -1 elsewhere
        private NDManager manager;
        private VisionModel model;
        private ImageProcessor imageProcessor;
        private LoadReport loadReport;
        private boolean newHead;
        private TrainingLoss loss;
        private List<ParamRef> trainable;
        private List<NDArray> floatBuffers;

        Fit(TrainingRun run, Trainer.Shard shard, ImageDataset train, ImageDataset eval) {
            this.run = run;
            this.shard = shard;
            this.trainData = train;
            this.evalData = eval;
        }

        @Override
        void prepare() throws IOException {
            if (shard.numExamples() == 0) {
                throw new IllegalArgumentException("the training dataset is empty: give labelled images");
            }
            run.checkArguments(evalData != null);
            if (evalData != null && !evalData.labels().equals(trainData.labels())) {
                throw new IllegalArgumentException("the evaluation data (" + evalData.description() + ") has classes "
                        + evalData.labels() + " but the training data (" + trainData.description() + ") has "
                        + trainData.labels() + ": label both with the same class list");
            }
            rowOf = new int[shard.numExamples()];
            Arrays.fill(rowOf, -1);
            for (int k = 0; k < shard.indices().length; k++) rowOf[shard.indices()[k]] = k;
            run.planSteps(shard.numExamples(), null);
            loadModel();
            loss = TrainingLoss.forLabelKind(LabelKind.SINGLE_LABEL, run.args.labelSmoothingFactor());
        }

        private void loadModel() throws IOException {
            List<String> names = trainData.labels();
            ObjectNode cfg;
            Path resumeFrom = run.resumeFrom;
            Path source = resumeFrom != null ? resumeFrom : pretrained;
            if (source != null) {
                Path file = source.resolve("config.json");
                if (!Files.isRegularFile(file)) {
                    throw new IOException(source + " has no config.json: not a checkpoint folder (expected config.json "
                            + "and model.safetensors, as save_pretrained writes them)");
                }
                ObjectNode saved = Json.readObject(file);
                List<String> savedLabels = TextClassificationTask.id2label(saved);
                newHead = !savedLabels.equals(names);
                if (resumeFrom != null && newHead) {
                    throw new IllegalArgumentException("checkpoint " + resumeFrom + " was trained with labels "
                            + savedLabels + " but the data has " + names + ": resume with the same data");
                }
                cfg = withLabels(saved, names);
            } else {
                cfg = withLabels(config, names);
                newHead = true;
            }
            manager = NDManager.newBaseManager(run.device());
            manager.setName("ImageTrainer");
            try (TrainingLock.Held lock = TrainingLock.acquire()) {
                TrainStep.seedTorch(run.args.seed()); // HF set_seed before the model (new head) is built
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
                p = source == null
                        ? VisionModels.defaultProcessor(model)
                        : ImageProcessor.fromDir(source, VisionModels.defaultProcessor(model))
                                .config();
            }
            imageProcessor = new ImageProcessor(p);
            Set<String> train = trainableNames();
            trainable = new ArrayList<>();
            floatBuffers = new ArrayList<>();
            for (Map.Entry<String, ParameterNames.Entry> e :
                    ParameterNames.of(model).entrySet()) {
                NDArray value = e.getValue().parameter().getArray();
                if (VisionModel.isBuffer(e.getValue())) {
                    if (value.getDataType() == DataType.FLOAT32) floatBuffers.add(value);
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
            TransferMode mode = run.mode();
            Set<String> fresh = new LinkedHashSet<>(loadReport == null ? List.of() : loadReport.newlyInitialized());
            Set<String> out = new LinkedHashSet<>();
            switch (mode.kind()) {
                case FINE_TUNE -> out.addAll(model.trainableParameterNames());
                case FEATURE_EXTRACTION -> out.addAll(model.parametersToTrain(0));
                case PARTIAL -> {
                    int blocks = model.featureBlocks().size();
                    if (mode.unfreezeLastLayers() > blocks) {
                        throw new IllegalArgumentException("unfreeze_last_layers " + mode.unfreezeLastLayers()
                                + " exceeds the " + blocks + " feature blocks of "
                                + model.getClass().getSimpleName()
                                + ": use at most " + blocks + " (or mode fine_tune)");
                    }
                    out.addAll(model.parametersToTrain(mode.unfreezeLastLayers()));
                    List<String> all = model.trainableParameterNames();
                    for (String p : mode.unfreezePatterns()) {
                        Pattern re = Pattern.compile(p);
                        List<String> hit =
                                all.stream().filter(n -> re.matcher(n).find()).toList();
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

        @Override
        NDManager manager() {
            return manager;
        }

        @Override
        List<NDArray> buffers() {
            return floatBuffers;
        }

        @Override
        ModelBatch collate(NDManager scope, int[] examples) {
            int[] idx = new int[examples.length];
            for (int i = 0; i < idx.length; i++) {
                idx[i] = rowOf[examples[i]];
                if (idx[i] < 0) {
                    throw new IllegalStateException("rank " + run.dp.rank() + " was not given training image "
                            + examples[i] + " that its micro-batches need: the shard does not follow DataSharding's "
                            + "order");
                }
            }
            NDArray x = pixels(scope, imageProcessor, trainData, idx); // (B, 3, H, W)
            NDArray y = labels(scope, trainData, idx); // (B)
            return new ModelBatch(new NDList(x), y, idx.length);
        }

        /** Feature extraction runs the base in eval mode without a graph, then the head with one. */
        @Override
        NDArray forward(ParameterStore ps, NDList inputs) {
            if (run.mode().kind() != TransferMode.Kind.FEATURE_EXTRACTION) {
                return model.forward(ps, inputs, true).head(); // (B, num_labels)
            }
            NDArray features;
            try (NoGrad g = NoGrad.enter()) {
                features = model.forwardFeatures(ps, inputs.head(), false); // (B, D), frozen, eval mode
            }
            return model.head(ps, features, true); // (B, num_labels)
        }

        @Override
        TrainingLoss loss() {
            return loss;
        }

        @Override
        List<ParamRef> trainable() {
            return trainable;
        }

        @Override
        Predicate<String> isHead() {
            return model.headParameterNames()::contains;
        }

        @Override
        Evaluation.Partial evaluatePartial(int batchSize) {
            return ImageClassificationTask.evaluatePartial(
                    model, imageProcessor, manager, evalData, batchSize, run.args.labelSmoothingFactor());
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
        String curveMetric() {
            return "accuracy";
        }

        @Override
        void addTrainResults(Map<String, Object> train) {
            train.put("trainable_parameters", TrainingRun.elements(trainable));
        }

        @Override
        Map<String, Object> provenance(Map<String, Double> initial, long evalExamples) {
            TransferMode mode = run.mode();
            Map<String, Object> p = new LinkedHashMap<>();
            p.put(
                    "source_checkpoint",
                    pretrained == null
                            ? null
                            : pretrained.toAbsolutePath().normalize().toString());
            p.put("from_scratch", pretrained == null);
            p.put("new_head", newHead);
            p.put("task", "image-classification");
            p.put("model_type", model.configJson().path("model_type").asText());
            p.put("labels", trainData.labels());
            p.put("mode", mode.kind().configName());
            p.put("unfreeze_last_layers", mode.unfreezeLastLayers());
            p.put("unfreeze_patterns", mode.unfreezePatterns());
            p.put("head_lr_multiplier", mode.headLrMultiplier());
            p.put("trainable_parameters", TrainingRun.elements(trainable));
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
            if (manager != null) manager.close();
        }
    }
}
