package io.sparkformers.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.NoGrad;
import io.sparkformers.nn.ParameterNames;
import io.sparkformers.nn.StateDict;
import io.sparkformers.nn.Task;
import io.sparkformers.safetensors.SafetensorsCheckpoint;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * The model side every task that fine-tunes a pretrained text checkpoint with a head from {@code AutoModelFor…}
 * shares (masked LM, question answering): loading with HF's seeding of new heads, resuming weights, the transfer
 * mode's trainable parameters, saving in HF layout and reloading the best checkpoint. The task adds its data, collator,
 * loss and evaluation.
 */
abstract class PretrainedTextFit extends TaskFit {
    final TrainingRun run;
    final Path source;
    HfModel hf;
    private List<ParamRef> trainable;

    /**
     * The loss of one evaluation batch: {@code batch} built in a scope of its own, the forward pass without gradients
     * under the training lock (one evaluation step of every pretrained-text task).
     */
    final double evaluationLoss(Function<NDManager, ModelBatch> batch) {
        try (TrainingLock.Held lock = TrainingLock.acquire();
                NDManager scope = hf.manager().newSubManager();
                NoGrad g = NoGrad.enter()) {
            ModelBatch b = batch.apply(scope);
            NDArray logits = hf.block()
                    .forward(new ParameterStore(scope, false), b.inputs(), false)
                    .head();
            return loss().compute(logits, b.labels()).getFloat();
        }
    }

    PretrainedTextFit(TrainingRun run, Path source) {
        this.run = run;
        this.source = source;
    }

    /** Loads {@code source} as {@code task} (config edited by {@code editConfig}), then the resumed weights if any. */
    void loadModel(Task task, UnaryOperator<ObjectNode> editConfig) throws IOException {
        TrainingArguments args = run.args;
        try (TrainingLock.Held lock = TrainingLock.acquire()) {
            TrainStep.seedTorch(args.seed()); // HF set_seed before the model (new head) is built
            hf = HfModel.fromPretrained(HfCheckpoint.open(source), task, run.device(), editConfig);
            if (run.resumeFrom != null) {
                try (SafetensorsCheckpoint w = HfCheckpoint.open(run.resumeFrom).openWeights()) {
                    StateDict.load(hf.block(), w.readAll(), StateDict.Options.STRICT);
                }
            }
        }
        String prefix = hf.block().baseModelPrefix();
        Map<String, ParameterNames.Entry> params = ParameterNames.of(hf.block());
        Set<String> fresh = new HashSet<>(hf.loadReport().newlyInitialized());
        Set<String> names = run.mode().trainable(new ArrayList<>(params.keySet()), prefix, fresh);
        trainable = new ArrayList<>();
        for (ParameterNames.Entry e : params.values()) {
            Parameter p = e.parameter();
            boolean train = names.contains(e.name());
            p.freeze(!train);
            if (train) trainable.add(new ParamRef(e.name(), p.getArray()));
        }
        if (trainable.isEmpty()) throw new IllegalArgumentException("no parameter is trainable");
    }

    @Override
    NDManager manager() {
        return hf.manager();
    }

    @Override
    NDArray forward(ParameterStore ps, NDList inputs) {
        return hf.block().forward(ps, inputs, true).head();
    }

    @Override
    List<ParamRef> trainable() {
        return trainable;
    }

    @Override
    Predicate<String> isHead() {
        String prefix = hf.block().baseModelPrefix();
        return n -> TransferMode.isHead(n, prefix);
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

    /** The provenance entries every such task writes; the task adds its own. */
    Map<String, Object> baseProvenance(String task, Map<String, Double> initial) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("source_checkpoint", source.toAbsolutePath().normalize().toString());
        p.put("task", task);
        p.put("mode", run.mode().kind().configName());
        p.put("trainable_parameters", trainable.size());
        if (!initial.isEmpty()) p.put("eval_before_training", initial);
        return p;
    }

    /**
     * The provenance "data" entry: the training rows' description and example count, and the evaluation rows' (their
     * count named {@code evalUnit}) or nothing without evaluation rows.
     */
    static Map<String, Object> dataProvenance(
            TrainingDataset train, long trainExamples, TrainingDataset eval, String evalUnit, long evalExamples) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("train", Map.of("description", train.description(), "examples", trainExamples));
        data.put("eval", eval == null ? Map.of() : Map.of("description", eval.description(), evalUnit, evalExamples));
        return data;
    }

    @Override
    public void close() {
        if (hf != null) hf.close();
    }
}
