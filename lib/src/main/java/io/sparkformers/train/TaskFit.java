package io.sparkformers.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * One fit's task side, made by {@link TrainingTask#start}: the loaded model and data, and the pieces
 * {@link TrainingRun}'s one loop calls — the data collator ({@link #collate}), the training forward, the loss
 * ({@link #loss}), this replica's evaluation partial, and how the model is saved and reloaded. Closed at the fit's end.
 */
abstract class TaskFit implements AutoCloseable {

    /** Checks the task's input and loads its data and model ({@link TrainingTask#start} through {@link #started}). */
    abstract void prepare() throws IOException;

    /** {@code fit} prepared, or closed and the failure rethrown. */
    static TaskFit started(TaskFit fit) throws IOException {
        try {
            fit.prepare();
            return fit;
        } catch (IOException | RuntimeException e) {
            fit.close();
            throw e;
        }
    }

    /** The manager the model lives in; each micro-batch's tensors go into a sub-manager of it. */
    abstract NDManager manager();

    /** The data collator: training examples {@code examples} (global indices) → model inputs and labels in {@code scope}. */
    abstract ModelBatch collate(NDManager scope, int[] examples);

    /**
     * {@link #collate(NDManager, int[])} in optimizer step {@code globalStep}: a random collator (masked LM) seeds its
     * draws from the step, so they do not depend on the replica count and repeat on resume.
     */
    ModelBatch collate(NDManager scope, int[] examples, long globalStep) {
        return collate(scope, examples);
    }

    /** The model's outputs in training mode (a frozen encoder runs in eval mode without a graph). */
    abstract NDArray forward(ParameterStore ps, NDList inputs);

    /** HF compute_loss of this task. */
    abstract TrainingLoss loss();

    /** The parameters the optimizer updates. */
    abstract List<ParamRef> trainable();

    /**
     * The embedding tables among the trainable arrays (their gradients are zero outside the looked-up rows, so the
     * all-reduce sends only touched rows); none by default.
     */
    List<NDArray> lookupTables() {
        return List.of();
    }

    /** Which parameter names belong to the new head (head_lr_multiplier applies to them). */
    abstract Predicate<String> isHead();

    /** Non-trainable state every replica takes from rank 0 before each step and evaluation (DDP broadcast_buffers). */
    List<NDArray> buffers() {
        return List.of();
    }

    /** Whether there is evaluation data (on some rank). */
    abstract boolean hasEvalData();

    /** This rank's share of an evaluation (only called when {@link #hasEvalData}). */
    abstract Evaluation.Partial evaluatePartial(int batchSize);

    /** Writes the model in HF layout into {@code dir} (rank 0 only). */
    abstract void saveModel(Path dir) throws IOException;

    /** Loads the weights a checkpoint folder holds into the model (load_best_model_at_end, rank 0 only). */
    abstract void loadWeights(Path checkpoint) throws IOException;

    /** The metric training_curves.png plots beside the loss. */
    abstract String curveMetric();

    /** The task's provenance entries (source, task, labels, mode, data, …). */
    abstract Map<String, Object> provenance(Map<String, Double> initialEval, long evalExamples);

    /** Extra entries of train_results.json. */
    void addTrainResults(Map<String, Object> train) {}

    @Override
    public abstract void close();
}
