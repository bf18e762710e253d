package io.sparkformers.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import io.sparkformers.nn.lora.LoraConfig;
import io.sparkformers.train.DataCollatorWithPadding.Batch;
import io.sparkformers.train.DataCollatorWithPadding.Example;
import io.sparkformers.train.DataCollatorWithPadding.LabelKind;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Text classification for the {@link Trainer} ({@code run_glue.py}, {@code run_ner.py}): sequence classification
 * (single-label, multi-label, regression: HF's problem_type) or token classification of a pretrained checkpoint. The
 * collator is {@link DataCollatorWithPadding}, the loss {@link TrainingLoss#forLabelKind}, the metrics
 * {@link Evaluation}'s; the saved model carries id2label, label2id and problem_type, and the tokenizer files.
 */
final class TextClassificationTask extends TrainingTask {

    private final Path model;
    private final Task task;
    private final LabelKind labelKind;
    private final List<String> labels;
    private final int maxLength;
    /** Train a LoRA adapter instead of the model's weights, or null. */
    private final LoraConfig lora;

    TextClassificationTask(Path model, Task task, LabelKind labelKind, List<String> labels, int maxLength) {
        this(model, task, labelKind, labels, maxLength, null);
    }

    TextClassificationTask(
            Path model, Task task, LabelKind labelKind, List<String> labels, int maxLength, LoraConfig lora) {
        this.lora = lora;
        this.model = Objects.requireNonNull(model, "model");
        this.task = Objects.requireNonNull(task, "task");
        this.labelKind = labelKind != null
                ? labelKind
                : task == Task.TOKEN_CLASSIFICATION ? LabelKind.TOKEN : LabelKind.SINGLE_LABEL;
        this.labels = labels == null ? null : List.copyOf(labels);
        this.maxLength = maxLength;
        if (task != Task.SEQUENCE_CLASSIFICATION && task != Task.TOKEN_CLASSIFICATION) {
            throw new IllegalArgumentException(
                    "the Trainer trains text-classification and token-classification, not " + task);
        }
        if ((task == Task.TOKEN_CLASSIFICATION) != (this.labelKind == LabelKind.TOKEN)) {
            throw new IllegalArgumentException("label kind " + this.labelKind + " does not fit task " + task);
        }
        if (this.labelKind == LabelKind.NONE) throw new IllegalArgumentException("training needs labels");
        if (maxLength <= 0) throw new IllegalArgumentException("max_length must be > 0 but was " + maxLength);
    }

    @Override
    TaskFit start(TrainingRun run, Trainer.Shard train, TrainingDataset eval) throws IOException {
        return TaskFit.started(new Fit(run, train, eval));
    }

    /**
     * Evaluates a fine-tuned checkpoint on labelled rows, as {@code Trainer(model).evaluate(dataset)}: the label kind
     * and names come from the checkpoint's config (problem_type, id2label).
     */
    static Map<String, Double> evaluate(Path modelDir, TextDataset data, int maxLength, int batchSize)
            throws IOException {
        HfCheckpoint ckpt = HfCheckpoint.open(modelDir);
        ObjectNode config = ckpt.config();
        String problem = config.path("problem_type").asText(null);
        List<String> names = id2label(config);
        boolean token = config.path("architectures").path(0).asText("").endsWith("ForTokenClassification");
        LabelKind kind = token
                ? LabelKind.TOKEN
                : "multi_label_classification".equals(problem)
                        ? LabelKind.MULTI_LABEL
                        : "regression".equals(problem) || names.size() == 1
                                ? LabelKind.REGRESSION
                                : LabelKind.SINGLE_LABEL;
        Task task = token ? Task.TOKEN_CLASSIFICATION : Task.SEQUENCE_CLASSIFICATION;
        try (TextTokenizer tok = TextTokenizer.load(ckpt, maxLength)) {
            TrainingData features = TrainingData.featurize(
                    data, kind, kind == LabelKind.REGRESSION ? null : new LabelSpace(names), tok, "evaluation");
            try (HfModel m = HfModel.fromPretrained(ckpt, task, ai.djl.Device.cpu())) {
                Map<String, Double> metrics =
                        Evaluation.run(m.block(), m.manager(), features, batchSize, kind, names, 0.0, tok.padTokenId());
                metrics.put("eval_samples", (double) features.size());
                return metrics;
            }
        }
    }

    static List<String> id2label(ObjectNode config) {
        Map<Integer, String> m = new TreeMap<>();
        config.path("id2label")
                .fields()
                .forEachRemaining(
                        e -> m.put(Integer.parseInt(e.getKey()), e.getValue().asText()));
        return new ArrayList<>(m.values());
    }

    /**
     * One fit: tokenizer, label space, features, and the model and its trainable parameters as every pretrained-text
     * task loads them ({@link PretrainedTextFit#loadModel}), stepped through a {@link TrainStep} (feature extraction).
     */
    private final class Fit extends PretrainedTextFit {
        private List<Example> examples; // by global example index, null where not this rank's
        private TextTokenizer tokenizer;

        private TrainStep step;
        private TrainingLoss loss;
        private LabelSpace labelSpace;
        private TrainingData trainData;
        private TrainingData evalData;
        private DataCollatorWithPadding collator;

        Fit(TrainingRun run, Trainer.Shard shard, TrainingDataset eval) {
            super(run, model, shard, eval, "text classification");
        }

        @Override
        void prepare() throws IOException {
            TrainingArguments args = run.args;
            int world = run.world;
            run.checkArguments(evalRows != null);
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
                labelSpace = labelKind == LabelKind.SINGLE_LABEL
                        ? LabelSpace.forSingleLabel(labels)
                        : new LabelSpace(labels);
            } else {
                if (trainRows.isEmpty()) {
                    throw new IllegalArgumentException("the training dataset (" + trainRows.description()
                            + ") is empty: check the path, the filter and data.limit");
                }
                List<String> seen = TrainingData.labelNames(trainRows, labelKind);
                labelSpace = labelKind == LabelKind.SINGLE_LABEL
                        ? LabelSpace.forSingleLabel(
                                seen.stream().collect(Collectors.groupingBy(l -> l, Collectors.counting())),
                                "the label column of the training dataset (" + trainRows.description() + ")")
                        : LabelSpace.fromLabels(seen);
            }
            trainData = TrainingData.featurize(trainRows, labelKind, labelSpace, tokenizer, "training");
            examples = new ArrayList<>(Collections.nCopies(shard.numExamples(), (Example) null));
            for (int k = 0; k < shard.indices().length; k++)
                examples.set(shard.indices()[k], trainData.examples().get(k));
            if (evalRows != null) {
                evalData = evalRows.isEmpty() && world > 1
                        ? new TrainingData(evalRows.description(), List.of())
                        : TrainingData.featurize(evalRows, labelKind, labelSpace, tokenizer, "evaluation");
            }
            run.planSteps(shard.numExamples(), args.groupByLength() ? trainData.lengths() : null);
            loadModel();
        }

        private void loadModel() throws IOException {
            // on resume too the model is built from the source (whose tokenizer files later saves copy: the resumed
            // checkpoint may be rotated away), then takes the checkpoint's weights
            if (run.resumeFrom != null) checkResumedLabels(run.resumeFrom);
            loadModel(
                    task,
                    this::withLabels,
                    lora == null ? null : loraWithHeads(),
                    task == Task.SEQUENCE_CLASSIFICATION ? "SEQ_CLS" : "TOKEN_CLS"); // PEFT task_type
            step = new TrainStep(
                    model(),
                    hf.manager(),
                    labelKind,
                    run.args.labelSmoothingFactor(),
                    run.mode().kind() == TransferMode.Kind.FEATURE_EXTRACTION,
                    trainable());
            loss = TrainingLoss.forLabelKind(labelKind, run.args.labelSmoothingFactor());
        }

        /**
         * The user's LoRA config as PEFT's get_peft_model sees it for a classification task: the head
         * ({@code classifier}, and {@code score} as PEFT adds it) among modules_to_save.
         */
        private LoraConfig loraWithHeads() {
            List<String> save = new ArrayList<>(lora.modulesToSave());
            for (String head : List.of("classifier", "score")) if (!save.contains(head)) save.add(head);
            return lora.withModulesToSave(save);
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

        private void checkResumedLabels(Path resumeFrom) throws IOException {
            if (labelSpace == null) return;
            List<String> saved = id2label(HfCheckpoint.open(resumeFrom).config());
            if (!saved.equals(labelSpace.names())) {
                throw new IllegalArgumentException("checkpoint " + resumeFrom + " was trained with labels " + saved
                        + " but the data has " + labelSpace.names() + ": resume with the same data or labels");
            }
        }

        @Override
        ModelBatch collate(NDManager scope, int[] micro) {
            List<Example> rows = new ArrayList<>(micro.length);
            for (int i : micro) rows.add(example(i));
            Batch batch = collator.collate(rows);
            return new ModelBatch(TrainStep.inputs(scope, batch), TrainStep.labels(scope, batch), batch.realTokens());
        }

        private Example example(int i) {
            Example e = examples.get(i);
            if (e == null) {
                throw new IllegalStateException("rank " + run.dp.rank() + " was not given training example " + i
                        + " that its micro-batches need: the shard does not follow DataSharding's order");
            }
            return e;
        }

        @Override
        NDArray forward(ParameterStore ps, NDList inputs) {
            return step.logits(ps, inputs, true);
        }

        @Override
        TrainingLoss loss() {
            return loss;
        }

        @Override
        Evaluation.Partial evaluatePartial(int batchSize) {
            return Evaluation.partial(
                    model(),
                    hf.manager(),
                    evalData.examples(),
                    batchSize,
                    labelKind,
                    labelNames(),
                    run.args.labelSmoothingFactor(),
                    tokenizer.padTokenId());
        }

        @Override
        boolean hasEvalData() {
            return evalData != null;
        }

        private List<String> labelNames() {
            return labelSpace == null ? List.of("LABEL_0") : labelSpace.names();
        }

        @Override
        String curveMetric() {
            TrainingArguments args = run.args;
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
        Map<String, Object> provenance(Map<String, Double> initial, long evalExamples) {
            TransferMode mode = run.mode();
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("source_checkpoint", model.toAbsolutePath().normalize().toString());
            try {
                p.put(
                        "source_config_name_or_path",
                        HfCheckpoint.open(model).config().path("_name_or_path").asText(null));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            p.put("task", task.name().toLowerCase(Locale.ROOT));
            p.put("label_kind", labelKind.name().toLowerCase(Locale.ROOT));
            p.put("labels", labelNames());
            p.put("mode", mode.kind().configName());
            p.put("unfreeze_last_layers", mode.unfreezeLastLayers());
            p.put("unfreeze_patterns", mode.unfreezePatterns());
            p.put("head_lr_multiplier", mode.headLrMultiplier());
            p.put("trainable_parameters", step.trainableParams().size());
            if (adapter != null) p.put("lora", adapter.config().toJson());
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
            super.close();
            if (tokenizer != null) tokenizer.close();
        }
    }
}
