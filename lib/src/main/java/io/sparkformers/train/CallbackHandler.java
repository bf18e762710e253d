package io.sparkformers.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Calls callbacks in order and clears control flags where HF's {@code CallbackHandler} does: should_training_stop at
 * train begin, should_epoch_stop at epoch begin, the step flags at step begin, should_evaluate before on_evaluate,
 * should_save before on_save, should_log before on_log.
 */
public final class CallbackHandler implements TrainerCallback {
    private final List<TrainerCallback> callbacks;

    public CallbackHandler(List<? extends TrainerCallback> callbacks) {
        this.callbacks = new ArrayList<>(callbacks);
    }

    public List<TrainerCallback> callbacks() {
        return List.copyOf(callbacks);
    }

    public void add(TrainerCallback callback) {
        callbacks.add(callback);
    }

    @Override
    public void onTrainBegin(TrainingArguments args, TrainerState state, TrainerControl control) {
        control.shouldTrainingStop = false;
        for (TrainerCallback c : callbacks) c.onTrainBegin(args, state, control);
    }

    @Override
    public void onEpochBegin(TrainingArguments args, TrainerState state, TrainerControl control) {
        control.shouldEpochStop = false;
        for (TrainerCallback c : callbacks) c.onEpochBegin(args, state, control);
    }

    @Override
    public void onStepBegin(TrainingArguments args, TrainerState state, TrainerControl control) {
        control.shouldLog = false;
        control.shouldEvaluate = false;
        control.shouldSave = false;
        for (TrainerCallback c : callbacks) c.onStepBegin(args, state, control);
    }

    @Override
    public void onStepEnd(TrainingArguments args, TrainerState state, TrainerControl control) {
        for (TrainerCallback c : callbacks) c.onStepEnd(args, state, control);
    }

    @Override
    public void onEpochEnd(TrainingArguments args, TrainerState state, TrainerControl control) {
        for (TrainerCallback c : callbacks) c.onEpochEnd(args, state, control);
    }

    @Override
    public void onEvaluate(
            TrainingArguments args, TrainerState state, TrainerControl control, Map<String, Double> metrics) {
        control.shouldEvaluate = false;
        for (TrainerCallback c : callbacks) c.onEvaluate(args, state, control, metrics);
    }

    @Override
    public void onSave(TrainingArguments args, TrainerState state, TrainerControl control) {
        control.shouldSave = false;
        for (TrainerCallback c : callbacks) c.onSave(args, state, control);
    }

    @Override
    public void onLog(TrainingArguments args, TrainerState state, TrainerControl control, Map<String, Object> logs) {
        control.shouldLog = false;
        for (TrainerCallback c : callbacks) c.onLog(args, state, control, logs);
    }

    @Override
    public void onTrainEnd(TrainingArguments args, TrainerState state, TrainerControl control) {
        for (TrainerCallback c : callbacks) c.onTrainEnd(args, state, control);
    }
}
