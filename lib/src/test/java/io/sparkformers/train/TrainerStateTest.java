package io.sparkformers.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.Json;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerStateTest {

    /** A trainer_state.json as transformers 4.4x writes it (keys sorted, HF's names). */
    private static final String HF_STATE = """
            {
              "best_global_step": 20,
              "best_metric": 0.91,
              "best_model_checkpoint": "out/checkpoint-20",
              "epoch": 1.5,
              "eval_steps": 10,
              "global_step": 30,
              "is_hyper_param_search": false,
              "is_local_process_zero": true,
              "is_world_process_zero": true,
              "log_history": [
                {"epoch": 0.5, "grad_norm": 1.25, "learning_rate": 4e-05, "loss": 0.6931, "step": 10},
                {"epoch": 1.0, "eval_accuracy": 0.91, "eval_loss": 0.3, "step": 20}
              ],
              "logging_steps": 10,
              "max_steps": 60,
              "num_input_tokens_seen": 0,
              "num_train_epochs": 3,
              "save_steps": 10,
              "stateful_callbacks": {
                "TrainerControl": {
                  "args": {"should_epoch_stop": false, "should_evaluate": false, "should_log": false,
                           "should_save": true, "should_training_stop": false},
                  "attributes": {}
                }
              },
              "total_flos": 0,
              "train_batch_size": 8,
              "trial_name": null,
              "trial_params": null
            }
            """;

    @Test
    void readsHfTrainerStateAndWritesTheSameKeysSorted() throws Exception {
        TrainerState s = TrainerState.fromJson(HF_STATE);
        assertEquals(30, s.globalStep);
        assertEquals(1.5, s.epoch);
        assertEquals(0.91, s.bestMetric);
        assertEquals("out/checkpoint-20", s.bestModelCheckpoint);
        assertEquals(8, s.trainBatchSize);
        assertEquals(2, s.logHistory.size());
        assertEquals(0.6931, s.logHistory.get(0).get("loss"));
        assertNull(s.trialName);

        JsonNode expected = Json.MAPPER.readTree(HF_STATE);
        JsonNode written = Json.MAPPER.readTree(s.toJson());
        assertEquals(fieldNames(expected), fieldNames(written));
        List<String> sorted = new ArrayList<>(fieldNames(written));
        sorted.sort(null);
        assertEquals(sorted, fieldNames(written));
        assertEquals(expected.get("log_history"), written.get("log_history"));
        assertEquals(expected.get("stateful_callbacks"), written.get("stateful_callbacks"));
        assertEquals(
                Json.MAPPER.readTree(s.toJson()),
                Json.MAPPER.readTree(TrainerState.fromJson(s.toJson()).toJson()));
    }

    @Test
    void fileRoundTripKeepsEveryField(@TempDir Path dir) throws Exception {
        TrainingArguments args =
                TrainingArguments.builder("out").maxSteps(60).loggingSteps(10).build();
        TrainerState s = TrainerState.start(args, args.plan(100, 1));
        s.globalStep = 10;
        s.epoch = 0.8;
        s.log(Map.of("loss", 0.5));
        s.statefulCallbacks.put("TrainerControl", new TrainerControl().state());
        s.statefulCallbacks.put("EarlyStoppingCallback", new EarlyStoppingCallback(3, 0.01).state());
        Path f = dir.resolve(CheckpointManager.TRAINER_STATE_NAME);
        s.save(f);
        TrainerState r = TrainerState.load(f);
        assertEquals(Json.MAPPER.readTree(s.toJson()), Json.MAPPER.readTree(r.toJson()));
        assertEquals(60, r.maxSteps);
        assertEquals(10, r.loggingSteps);
        assertEquals(5, r.numTrainEpochs); // 13 steps per epoch: ceil(60 / 13)
        @SuppressWarnings("unchecked")
        EarlyStoppingCallback es =
                EarlyStoppingCallback.fromState((Map<String, ?>) r.statefulCallbacks.get("EarlyStoppingCallback"));
        assertEquals(0, es.patienceCounter());
    }

    @Test
    void logAddsEpochToTheLogsAndStepToTheHistoryAsHf() {
        TrainerState s = new TrainerState();
        s.globalStep = 5;
        s.epoch = 0.25;
        Map<String, Object> logs = s.log(Map.of("loss", 1.0));
        assertEquals(Map.of("loss", 1.0, "epoch", 0.25), logs);
        assertEquals(Map.of("loss", 1.0, "epoch", 0.25, "step", 5L), s.logHistory.get(0));
    }

    @Test
    void schedulerAndRngStatesRoundTrip() {
        SchedulerState sch = SchedulerState.after(10, List.of(5e-5), LrSchedules.linear(0, 20));
        assertEquals(11, sch.stepCount());
        assertEquals(2.5e-5, sch.lastLrs().get(0), 1e-18);
        String json = sch.toJson();
        assertTrue(json.contains("\"last_epoch\" : 10"), json);
        assertTrue(json.contains("\"_step_count\" : 11"), json);
        assertEquals(sch, SchedulerState.fromJson(json));

        RngState rng = new RngState(42, 7, 2, 13, Map.of("dropout", 12345L));
        assertEquals(rng, RngState.fromJson(rng.toJson()));
    }

    private static List<String> fieldNames(JsonNode n) {
        List<String> out = new ArrayList<>();
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) out.add(it.next());
        return out;
    }
}
