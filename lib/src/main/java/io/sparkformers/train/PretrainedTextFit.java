package io.sparkformers.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.metrics.PerplexityState;
import io.sparkformers.nn.Embedding;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.NoGrad;
import io.sparkformers.nn.ParameterNames;
import io.sparkformers.nn.StateDict;
import io.sparkformers.nn.Task;
import io.sparkformers.nn.lora.LoraConfig;
import io.sparkformers.nn.lora.LoraModel;
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
 * What every task that fine-tunes a pretrained text checkpoint with a head from {@code AutoModelFor…} shares (text
 * classification, masked and causal LM, seq2seq, question answering): this replica's text rows (other datasets refused
 * with the task's name), loading with HF's seeding of new heads, resuming weights, the transfer mode's trainable
 * parameters, saving in HF layout and reloading the best checkpoint. The task adds its features, collator, loss and
 * evaluation.
 */
abstract class PretrainedTextFit extends TaskFit {
    final TrainingRun run;
    final Path source;
    /** This replica's training rows with their global example indices. */
    final Trainer.Shard shard;
    /** This replica's training rows, as text. */
    final TextDataset trainRows;
    /** This replica's evaluation rows, or null. */
    final TextDataset evalRows;

    HfModel hf;
    /** The LoRA-wrapped model when training an adapter (PEFT get_peft_model), else null. */
    LoraModel adapter;

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
            NDArray logits = model().forward(new ParameterStore(scope, false), b.inputs(), false)
                    .head();
            return loss().compute(logits, b.labels()).getFloat();
        }
    }

    /**
     * One evaluation batch of a language-modelling task: the tokens it predicts (label not -100, after any shift) and
     * how to build its inputs and labels in a scope.
     */
    record PerplexityBatch(long predicted, Function<NDManager, ModelBatch> build) {}

    /**
     * This replica's evaluation partial of a language-modelling task (masked, causal, seq2seq): {@code data} in batches
     * of {@code batchSize} examples, each made by {@code batch}; a batch predicting no token is counted as a step
     * but skipped (HF's loss would be NaN); {@code eval_loss} is the example-weighted mean of the batch losses and
     * {@link PerplexityState} holds the token-weighted one.
     */
    final <E> Evaluation.Partial perplexityPartial(
            List<E> data, int batchSize, Function<List<E>, PerplexityBatch> batch) {
        long t0 = System.nanoTime();
        PerplexityState state = new PerplexityState();
        double lossSum = 0;
        long n = 0;
        int steps = 0;
        for (int from = 0; from < data.size(); from += batchSize) {
            List<E> rows = data.subList(from, Math.min(data.size(), from + batchSize));
            PerplexityBatch b = batch.apply(rows);
            steps++;
            if (b.predicted() == 0) continue; // HF's loss would be NaN: a batch predicting nothing says nothing
            double loss = evaluationLoss(b.build());
            lossSum += loss * rows.size();
            n += rows.size();
            state.addBatch(loss, rows.size(), b.predicted());
        }
        return new Evaluation.Partial(lossSum, n, steps, state, (System.nanoTime() - t0) / 1e9);
    }

    /**
     * @param what the task, for the error on rows that are not text ({@code "masked-LM training"})
     */
    PretrainedTextFit(TrainingRun run, Path source, Trainer.Shard shard, TrainingDataset eval, String what) {
        this.run = run;
        this.source = source;
        this.shard = shard;
        this.trainRows = TrainingTask.require(shard.rows(), TextDataset.class, what);
        this.evalRows = TrainingTask.require(eval, TextDataset.class, what);
    }

    /** Loads {@code source} as {@code task} (config edited by {@code editConfig}), then the resumed weights if any. */
    void loadModel(Task task, UnaryOperator<ObjectNode> editConfig) throws IOException {
        loadModel(task, editConfig, null, null);
    }

    /**
     * {@link #loadModel(Task, UnaryOperator)} training the LoRA adapter {@code lora} (null: none) with the base frozen:
     * only the adapter and {@code lora.modulesToSave()} train (and cross the all-reduce); saves write the merged plain
     * checkpoint and the PEFT adapter in its {@link LoraModel#FIT_FOLDER} folder.
     *
     * @param peftTaskType PEFT {@code task_type} written to the adapter's config ({@code CAUSAL_LM}, …)
     */
    void loadModel(Task task, UnaryOperator<ObjectNode> editConfig, LoraConfig lora, String peftTaskType)
            throws IOException {
        TrainingArguments args = run.args;
        if (lora != null && run.mode().kind() != TransferMode.Kind.FINE_TUNE) {
            throw new IllegalArgumentException("LoRA trains the adapter and modules_to_save with the base frozen: "
                    + "use mode fine_tune, not " + run.mode().kind().configName());
        }
        try (TrainingLock.Held lock = TrainingLock.acquire()) {
            TrainStep.seedTorch(args.seed()); // HF set_seed before the model (new head) is built
            hf = HfModel.fromPretrained(HfCheckpoint.open(source), task, run.device(), editConfig);
            if (lora != null) {
                adapter = LoraModel.wrap(
                        hf.block(),
                        lora.withTaskType(peftTaskType)
                                .withBaseModel(
                                        source.toAbsolutePath().normalize().toString()));
                if (run.resumeFrom != null) adapter.loadAdapterWeights(run.resumeFrom.resolve(LoraModel.FIT_FOLDER));
            } else if (run.resumeFrom != null) {
                try (SafetensorsCheckpoint w = HfCheckpoint.open(run.resumeFrom).openWeights()) {
                    StateDict.load(hf.block(), w.readAll(), StateDict.Options.STRICT);
                }
            }
        }
        String prefix = hf.block().baseModelPrefix();
        Map<String, ParameterNames.Entry> params = ParameterNames.of(hf.block());
        Set<String> fresh = new HashSet<>(hf.loadReport().newlyInitialized());
        Set<String> names = adapter != null
                ? adapter.savedInFull().keySet()
                : run.mode().trainable(new ArrayList<>(params.keySet()), prefix, fresh);
        trainable = new ArrayList<>();
        if (adapter != null) {
            adapter.adapterParameters().forEach((name, p) -> {
                p.freeze(false);
                trainable.add(new ParamRef(name, p.getArray()));
            });
        }
        for (ParameterNames.Entry e : params.values()) {
            Parameter p = e.parameter();
            boolean train = names.contains(e.name());
            p.freeze(!train);
            if (train) trainable.add(new ParamRef(e.name(), p.getArray()));
        }
        if (trainable.isEmpty()) throw new IllegalArgumentException("no parameter is trainable");
    }

    /** The model the steps and evaluations run: the LoRA wrapper when training an adapter. */
    final io.sparkformers.nn.PretrainedModel model() {
        return adapter != null ? adapter : hf.block();
    }

    @Override
    NDManager manager() {
        return hf.manager();
    }

    @Override
    NDArray forward(ParameterStore ps, NDList inputs) {
        return model().forward(ps, inputs, true).head();
    }

    @Override
    List<ParamRef> trainable() {
        return trainable;
    }

    @Override
    List<NDArray> lookupTables() {
        return Embedding.tablesIn(model());
    }

    @Override
    Predicate<String> isHead() {
        String prefix = hf.block().baseModelPrefix();
        return n -> !n.startsWith(LoraModel.KEY_PREFIX) && TransferMode.isHead(n, prefix);
    }

    @Override
    void saveModel(Path dir) throws IOException {
        if (adapter == null) {
            hf.savePretrained(dir);
            return;
        }
        hf.savePretrained(dir, adapter.mergedState()); // a plain checkpoint every stage and pipeline loads
        adapter.saveAdapter(dir.resolve(LoraModel.FIT_FOLDER)); // what PeftModel.from_pretrained(base, dir) loads
    }

    @Override
    void loadWeights(Path checkpoint) throws IOException {
        if (adapter != null) {
            try (TrainingLock.Held lock = TrainingLock.acquire()) {
                adapter.loadAdapterWeights(checkpoint.resolve(LoraModel.FIT_FOLDER));
            }
            return;
        }
        try (TrainingLock.Held lock = TrainingLock.acquire();
                SafetensorsCheckpoint w = HfCheckpoint.open(checkpoint).openWeights()) {
            StateDict.load(hf.block(), w.readAll(), StateDict.Options.STRICT);
        }
    }

    /**
     * The training examples by global example index, as the one loop reads them. Row examples: this shard's
     * ({@code mine}, in shard order) at their global indices, null where another replica holds the row. group_texts
     * blocks: every replica's, in rank order, on every replica — each replica packed its own rows, so where HF's
     * single packing over all rows drops one remainder, a data-parallel fit drops one per shard; the blocks are
     * exchanged once ({@code encode}/{@code decode}: an example as a fixed-width long row) so the step plan covers
     * them all as it covers rows. Fails when no replica has a whole block, or a row tokenized to nothing.
     *
     * @param what        "masked-LM" or "causal-LM", for messages
     * @param sizeName    the block size's argument name (block_size, max_seq_length), for messages
     */
    final <E> List<E> examplesByGlobalIndex(
            List<E> mine,
            Trainer.Shard shard,
            boolean groupTexts,
            int blockSize,
            String sizeName,
            Function<E, long[]> encode,
            Function<long[], E> decode,
            String what)
            throws IOException {
        if (!groupTexts) {
            if (mine.size() != shard.indices().length) {
                throw new IllegalArgumentException(what + " training: " + (shard.indices().length - mine.size())
                        + " training rows tokenize to nothing: drop empty texts before a data-parallel fit");
            }
            List<E> out = new ArrayList<>(java.util.Collections.nCopies(shard.numExamples(), (E) null));
            for (int k = 0; k < shard.indices().length; k++) out.set(shard.indices()[k], mine.get(k));
            return out;
        }
        if (run.world == 1) return mine;
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.DataOutputStream out = new java.io.DataOutputStream(bytes)) {
            for (E e : mine) {
                long[] row = encode.apply(e);
                out.writeInt(row.length);
                for (long v : row) out.writeInt(Math.toIntExact(v)); // token ids and flags fit in 32 bits
            }
        }
        List<E> all = new ArrayList<>();
        for (byte[] b : run.dp.allGather(bytes.toByteArray())) {
            java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(b);
            while (in.hasRemaining()) {
                long[] row = new long[in.getInt()];
                for (int j = 0; j < row.length; j++) row[j] = in.getInt();
                all.add(decode.apply(row));
            }
        }
        if (all.isEmpty()) {
            throw new IllegalArgumentException("no replica's training rows hold one block of " + sizeName + " "
                    + blockSize + " tokens (group_texts packs each replica's rows on their own): add text, lower "
                    + sizeName + ", use fewer workers or turn group_texts off");
        }
        return all;
    }

    /** The provenance entries every such task writes; the task adds its own. */
    Map<String, Object> baseProvenance(String task, Map<String, Double> initial) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("source_checkpoint", source.toAbsolutePath().normalize().toString());
        p.put("task", task);
        p.put("mode", run.mode().kind().configName());
        p.put("trainable_parameters", trainable.size());
        if (adapter != null) p.put("lora", adapter.config().toJson());
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
