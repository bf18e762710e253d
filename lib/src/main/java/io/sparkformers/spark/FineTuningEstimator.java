package io.sparkformers.spark;

import io.sparkformers.train.LabelSpace;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.Model;

/**
 * What every training Estimator shares, whatever its data ({@link TextFineTuningEstimator}: text and token
 * classification; {@link ImageClassifier}): the uid, the replicas' trainer callbacks ({@link #addTrainerCallback}, HF
 * {@code Trainer.add_callback}) and the checks on the labels before any replica starts. Each fit runs the one
 * {@link DistributedTraining} path with a {@link DistributedTraining.Spec}.
 *
 * @param <S> the concrete estimator, returned by the setters
 * @param <M> the fitted model
 */
abstract class FineTuningEstimator<S extends FineTuningEstimator<S, M>, M extends Model<M>> extends Estimator<M> {
    private static final long serialVersionUID = 1L;

    private final String uid;
    /** Not a Param (callbacks are code): like HF's {@code Trainer(callbacks=…)}, kept by this instance only. */
    private final List<TrainerCallbackFactory> callbacks = new ArrayList<>();

    FineTuningEstimator(String uid) {
        this.uid = uid; // first: Params read it
    }

    @Override
    public final String uid() {
        return uid;
    }

    @SuppressWarnings("unchecked")
    final S self() {
        return (S) this;
    }

    /**
     * Adds a callback factory: every training replica gets its own callback from it (HF {@code Trainer.add_callback});
     * the factory is serialized to the executors. Not copied by {@code copy(ParamMap)}: callbacks are not Params.
     */
    public S addTrainerCallback(TrainerCallbackFactory factory) {
        callbacks.add(Objects.requireNonNull(factory, "factory"));
        return self();
    }

    /** The callback factories added so far, for a {@link DistributedTraining.Spec}. */
    final List<TrainerCallbackFactory> callbacks() {
        return List.copyOf(callbacks);
    }

    /**
     * The classes of a single-label fit from the training rows' label counts: sorted, at least two, or one clear line
     * naming {@code column} and the value counts.
     */
    static List<String> singleLabelClasses(Map<String, Long> counts, String column) {
        return LabelSpace.forSingleLabel(counts, "the label column '" + column + "'")
                .names();
    }
}
