package io.sparkformers.train;

import java.util.Map;

/**
 * Hooks into the training loop, as HF's {@code TrainerCallback}: every event receives the arguments, the mutable
 * {@link TrainerState} and the {@link TrainerControl} a callback may flip. All hooks default to doing nothing.
 * Callbacks run in registration order (see {@link CallbackHandler}).
 */
public interface TrainerCallback {

    default void onTrainBegin(TrainingArguments args, TrainerState state, TrainerControl control) {}

    default void onEpochBegin(TrainingArguments args, TrainerState state, TrainerControl control) {}

    default void onStepBegin(TrainingArguments args, TrainerState state, TrainerControl control) {}

    /** After the optimizer step; {@code state.globalStep} already counts it. */
    default void onStepEnd(TrainingArguments args, TrainerState state, TrainerControl control) {}

    default void onEpochEnd(TrainingArguments args, TrainerState state, TrainerControl control) {}

    /** After an evaluation; {@code metrics} keys carry HF's {@code eval_} prefix. */
    default void onEvaluate(
            TrainingArguments args, TrainerState state, TrainerControl control, Map<String, Double> metrics) {}

    /** After a checkpoint is written. */
    default void onSave(TrainingArguments args, TrainerState state, TrainerControl control) {}

    /** After {@code logs} were appended to {@code state.logHistory} (the entry has "epoch" but not "step", as HF). */
    default void onLog(TrainingArguments args, TrainerState state, TrainerControl control, Map<String, Object> logs) {}

    default void onTrainEnd(TrainingArguments args, TrainerState state, TrainerControl control) {}
}
