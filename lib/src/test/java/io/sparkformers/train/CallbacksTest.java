package io.sparkformers.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** EarlyStoppingCallback and DefaultFlowCallback against transformers/trainer_callback.py. */
class CallbacksTest {

    private static final TrainingArguments ACC = TrainingArguments.builder("out")
            .evalStrategy("steps")
            .evalSteps(10.0)
            .saveSteps(10)
            .loadBestModelAtEnd(true)
            .metricForBestModel("accuracy")
            .build();

    /** Runs evaluations in HF order: on_evaluate sees the previous best, then the best is updated. */
    private static List<Boolean> stops(EarlyStoppingCallback cb, TrainingArguments args, String key, double... values) {
        TrainerState state = new TrainerState();
        TrainerControl control = new TrainerControl();
        CallbackHandler handler = new CallbackHandler(List.of(cb));
        List<Boolean> out = new ArrayList<>();
        for (int i = 0; i < values.length; i++) {
            state.globalStep = 10L * (i + 1);
            Map<String, Double> metrics = Map.of(key, values[i]);
            handler.onEvaluate(args, state, control, metrics);
            state.updateBestMetric(args, metrics, Path.of("out"));
            out.add(control.shouldTrainingStop);
        }
        return out;
    }

    @Test
    void stopsAfterPatienceEvaluationsWithoutImprovement() {
        EarlyStoppingCallback cb = new EarlyStoppingCallback(2, 0.0);
        // 0.80 first (no best yet: reset), 0.85 better, 0.85 equal (+1), 0.84 worse (+2 → stop)
        assertEquals(List.of(false, false, false, true), stops(cb, ACC, "eval_accuracy", 0.80, 0.85, 0.85, 0.84));
        assertEquals(2, cb.patienceCounter());
    }

    @Test
    void improvementsWithinTheThresholdDoNotCount() {
        EarlyStoppingCallback cb = new EarlyStoppingCallback(2, 0.01);
        // +0.005 is not > 0.01 (+1), +0.02 over the best 0.80 resets, +0.001 (+1), +0.009 (+2 → stop)
        assertEquals(
                List.of(false, false, false, false, true),
                stops(cb, ACC, "eval_accuracy", 0.80, 0.805, 0.825, 0.826, 0.834));
    }

    @Test
    void lossImprovesDownward() {
        TrainingArguments loss = TrainingArguments.builder("out")
                .evalStrategy("steps")
                .evalSteps(10.0)
                .saveSteps(10)
                .loadBestModelAtEnd(true)
                .build();
        EarlyStoppingCallback cb = new EarlyStoppingCallback(1, 0.0);
        assertEquals(List.of(false, false, true), stops(cb, loss, "eval_loss", 0.9, 0.5, 0.7));
    }

    @Test
    void requiresLoadBestModelAtEndAndAMetric() {
        EarlyStoppingCallback cb = new EarlyStoppingCallback(3, 0.0);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> cb.onTrainBegin(
                        TrainingArguments.builder("out").build(), new TrainerState(), new TrainerControl()));
        assertEquals("EarlyStoppingCallback requires load_best_model_at_end = true", e.getMessage());
        cb.checkArguments(ACC);
        assertThrows(IllegalArgumentException.class, () -> new EarlyStoppingCallback(0, 0.0));
    }

    @Test
    void defaultFlowLogsEvaluatesAndSavesOnTheirStepsAndStopsAtMaxSteps() {
        TrainingArguments args = TrainingArguments.builder("out")
                .loggingSteps(5)
                .evalStrategy("steps")
                .evalSteps(10.0)
                .saveSteps(20)
                .set("logging_first_step", true)
                .maxSteps(30)
                .build();
        TrainerState state = TrainerState.start(args, args.plan(1000, 1));
        TrainerControl control = new TrainerControl();
        CallbackHandler handler = new CallbackHandler(List.of(new DefaultFlowCallback()));
        List<String> events = new ArrayList<>();
        for (long step = 1; step <= 30 && !control.shouldTrainingStop; step++) {
            handler.onStepBegin(args, state, control);
            state.globalStep = step;
            handler.onStepEnd(args, state, control);
            String e = (control.shouldLog ? "L" : "")
                    + (control.shouldEvaluate ? "E" : "")
                    + (control.shouldSave ? "S" : "");
            if (!e.isEmpty()) events.add(step + e);
        }
        assertEquals(List.of("1L", "5L", "10LE", "15L", "20LES", "25L", "30LES"), events);
        assertTrue(control.shouldTrainingStop);
        handler.onSave(args, state, control);
        assertFalse(control.shouldSave);
    }
}
