package io.sparkformers.train;

/**
 * When to log, evaluate and save, as HF's {@code DefaultFlowCallback}: every {@code state.loggingSteps} /
 * {@code evalSteps} / {@code saveSteps} steps under the "steps" strategies, at each epoch end under "epoch", after
 * step 1 with logging_first_step, and stop (saving, under save_strategy "steps") once max_steps is reached.
 */
public final class DefaultFlowCallback implements TrainerCallback {

    @Override
    public void onStepEnd(TrainingArguments args, TrainerState state, TrainerControl control) {
        long step = state.globalStep;
        if (step == 1 && args.loggingFirstStep()) control.shouldLog = true;
        if ("steps".equals(args.loggingStrategy()) && state.loggingSteps > 0 && step % state.loggingSteps == 0) {
            control.shouldLog = true;
        }
        if ("steps".equals(args.evalStrategy()) && state.evalSteps > 0 && step % state.evalSteps == 0) {
            control.shouldEvaluate = true;
        }
        if ("steps".equals(args.saveStrategy()) && state.saveSteps > 0 && step % state.saveSteps == 0) {
            control.shouldSave = true;
        }
        if (step >= state.maxSteps) {
            control.shouldTrainingStop = true;
            if ("steps".equals(args.saveStrategy())) control.shouldSave = true;
        }
    }

    @Override
    public void onEpochEnd(TrainingArguments args, TrainerState state, TrainerControl control) {
        if ("epoch".equals(args.loggingStrategy())) control.shouldLog = true;
        if ("epoch".equals(args.evalStrategy())) control.shouldEvaluate = true;
        if ("epoch".equals(args.saveStrategy())) control.shouldSave = true;
    }
}
