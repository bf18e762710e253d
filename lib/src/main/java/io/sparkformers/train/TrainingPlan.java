package io.sparkformers.train;

/**
 * The step counts of one training run, resolved from {@link TrainingArguments} and the dataset size the way HF
 * Trainer's {@code _inner_training_loop} resolves them before the first step.
 *
 * @param updatesPerEpoch      optimizer steps per epoch per replica (HF {@code num_update_steps_per_epoch})
 * @param maxSteps             total optimizer steps (HF {@code state.max_steps})
 * @param numTrainEpochs       epochs the loop runs (HF {@code state.num_train_epochs})
 * @param warmupSteps          warm-up steps of the schedule (HF {@code get_warmup_steps})
 * @param loggingSteps         steps between logs, ratios resolved (HF {@code state.logging_steps})
 * @param evalSteps            steps between evaluations, ratios resolved; 0 when eval_steps is unset
 * @param saveSteps            steps between checkpoints, ratios resolved
 * @param totalTrainBatchSize  examples per optimizer step over all replicas (batch × accumulation × world size)
 */
public record TrainingPlan(
        long updatesPerEpoch,
        long maxSteps,
        long numTrainEpochs,
        long warmupSteps,
        long loggingSteps,
        long evalSteps,
        long saveSteps,
        long totalTrainBatchSize) {}
