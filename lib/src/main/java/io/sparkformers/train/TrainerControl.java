package io.sparkformers.train;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The switches callbacks flip to steer the loop, as HF's {@code TrainerControl}: stop training, end the epoch, and
 * log, evaluate or save at this step. The step flags are cleared at each step's start, the epoch flag at each
 * epoch's start ({@link CallbackHandler} does it, as HF's {@code CallbackHandler}).
 */
public final class TrainerControl {
    public boolean shouldTrainingStop;
    public boolean shouldEpochStop;
    public boolean shouldSave;
    public boolean shouldEvaluate;
    public boolean shouldLog;

    /** HF {@code ExportableState.state()}: the entry under {@code stateful_callbacks.TrainerControl}. */
    public Map<String, Object> state() {
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("should_training_stop", shouldTrainingStop);
        args.put("should_epoch_stop", shouldEpochStop);
        args.put("should_save", shouldSave);
        args.put("should_evaluate", shouldEvaluate);
        args.put("should_log", shouldLog);
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("args", args);
        s.put("attributes", new LinkedHashMap<>());
        return s;
    }

    /** Restores what {@link #state()} wrote. */
    public static TrainerControl fromState(Map<String, ?> state) {
        TrainerControl c = new TrainerControl();
        if (state.get("args") instanceof Map<?, ?> a) {
            c.shouldTrainingStop = Boolean.TRUE.equals(a.get("should_training_stop"));
            c.shouldEpochStop = Boolean.TRUE.equals(a.get("should_epoch_stop"));
            c.shouldSave = Boolean.TRUE.equals(a.get("should_save"));
            c.shouldEvaluate = Boolean.TRUE.equals(a.get("should_evaluate"));
            c.shouldLog = Boolean.TRUE.equals(a.get("should_log"));
        }
        return c;
    }
}
