package io.sparkformers.train;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.sparkformers.hub.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The loop's progress, as HF's {@code TrainerState}, saved as {@code trainer_state.json} in every checkpoint with
 * HF's keys, sorted, as HF's {@code save_to_json} writes them ({@code json.dumps(..., indent=2, sort_keys=True)}), so
 * Python {@code TrainerState.load_from_json} reads ours and we read HF's. Mutable, like HF's dataclass: the loop and
 * the callbacks update the public fields.
 */
public final class TrainerState {
    /** Fractional epoch, e.g. 1.5 half-way through the second (HF {@code epoch}). */
    public Double epoch;
    /** Optimizer steps done (HF {@code global_step}). */
    public long globalStep;

    public long maxSteps;
    public long loggingSteps = 500;
    public long evalSteps = 500;
    public long saveSteps = 500;
    /** Per-device train batch size (HF {@code train_batch_size}). */
    public Integer trainBatchSize;

    public long numTrainEpochs;
    public long numInputTokensSeen;
    /** Always 0 here: we do not count FLOPs. */
    public double totalFlos;
    /** Every log entry with its "step" (HF {@code log_history}). */
    public List<Map<String, Object>> logHistory = new ArrayList<>();

    public Double bestMetric;
    public Long bestGlobalStep;
    /** Path of the best checkpoint folder (HF {@code best_model_checkpoint}). */
    public String bestModelCheckpoint;

    public boolean isLocalProcessZero = true;
    public boolean isWorldProcessZero = true;
    public boolean isHyperParamSearch;
    public String trialName;
    public Map<String, Object> trialParams;
    /** Exported callback states by class name (HF {@code stateful_callbacks}), e.g. TrainerControl. */
    public Map<String, Object> statefulCallbacks = new LinkedHashMap<>();

    /** A fresh state for a run with {@code plan}'s step counts, as HF's loop initialises it. */
    public static TrainerState start(TrainingArguments args, TrainingPlan plan) {
        TrainerState s = new TrainerState();
        s.epoch = 0.0;
        s.maxSteps = plan.maxSteps();
        s.numTrainEpochs = plan.numTrainEpochs();
        s.loggingSteps = plan.loggingSteps();
        s.evalSteps = plan.evalSteps();
        s.saveSteps = plan.saveSteps();
        s.trainBatchSize = args.perDeviceTrainBatchSize();
        return s;
    }

    /**
     * HF {@code Trainer.log}: adds the current epoch to {@code logs}, appends {@code logs + {"step": globalStep}} to
     * the history, and returns {@code logs} (what {@code on_log} receives).
     */
    public Map<String, Object> log(Map<String, ?> logs) {
        Map<String, Object> out = new LinkedHashMap<>(logs);
        if (epoch != null) out.put("epoch", epoch);
        Map<String, Object> entry = new LinkedHashMap<>(out);
        entry.put("step", globalStep);
        logHistory.add(entry);
        return out;
    }

    /**
     * HF {@code Trainer._determine_best_metric}: reads metric_for_best_model (with the "eval_" prefix) from
     * {@code metrics}; if it beats the best so far in the direction of greater_is_better, records it with this
     * step's checkpoint folder {@code outputDir/checkpoint-<globalStep>}. Returns whether it is a new best. Does nothing
     * when metric_for_best_model is unset.
     */
    public boolean updateBestMetric(TrainingArguments args, Map<String, Double> metrics, Path outputDir) {
        String key = args.bestMetricKey();
        if (key == null) return false;
        Double value = metrics.get(key);
        if (value == null) {
            throw new IllegalArgumentException("The metric_for_best_model training argument is set to '" + key
                    + "', which is not found in the evaluation metrics. The available evaluation metrics are: "
                    + metrics.keySet() + ". Consider changing metric_for_best_model.");
        }
        boolean greater = Boolean.TRUE.equals(args.greaterIsBetter());
        double best = bestMetric != null ? bestMetric : greater ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
        if (greater ? value > best : value < best) {
            bestMetric = value;
            bestGlobalStep = globalStep;
            bestModelCheckpoint =
                    outputDir.resolve(CheckpointManager.folderName(globalStep)).toString();
            return true;
        }
        return false;
    }

    // ---------------------------------------------------------------- JSON

    public Map<String, Object> toMap() {
        Map<String, Object> m = new TreeMap<>();
        m.put("best_global_step", bestGlobalStep);
        m.put("best_metric", bestMetric);
        m.put("best_model_checkpoint", bestModelCheckpoint);
        m.put("epoch", epoch);
        m.put("eval_steps", evalSteps);
        m.put("global_step", globalStep);
        m.put("is_hyper_param_search", isHyperParamSearch);
        m.put("is_local_process_zero", isLocalProcessZero);
        m.put("is_world_process_zero", isWorldProcessZero);
        m.put("log_history", logHistory);
        m.put("logging_steps", loggingSteps);
        m.put("max_steps", maxSteps);
        m.put("num_input_tokens_seen", numInputTokensSeen);
        m.put("num_train_epochs", numTrainEpochs);
        m.put("save_steps", saveSteps);
        m.put("stateful_callbacks", statefulCallbacks);
        m.put("total_flos", totalFlos);
        m.put("train_batch_size", trainBatchSize);
        m.put("trial_name", trialName);
        m.put("trial_params", trialParams);
        return m;
    }

    /** {@code trainer_state.json}'s text: HF keys, sorted at every level, two-space indentation. */
    public String toJson() {
        try {
            return Json.MAPPER
                            .writer()
                            .with(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
                            .writeValueAsString(toMap()) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads HF's or our {@code trainer_state.json}; keys this version does not know are ignored. */
    public static TrainerState fromJson(String json) {
        Map<String, Object> m;
        try {
            m = Json.MAPPER.readValue(json, new TypeReference<LinkedHashMap<String, Object>>() {});
        } catch (IOException e) {
            throw new IllegalArgumentException("trainer_state.json is not valid JSON: " + e.getMessage(), e);
        }
        TrainerState s = new TrainerState();
        s.epoch = dbl(m.get("epoch"));
        s.globalStep = lng(m.get("global_step"), 0);
        s.maxSteps = lng(m.get("max_steps"), 0);
        s.loggingSteps = lng(m.get("logging_steps"), 500);
        s.evalSteps = lng(m.get("eval_steps"), 500);
        s.saveSteps = lng(m.get("save_steps"), 500);
        s.trainBatchSize = m.get("train_batch_size") instanceof Number n ? n.intValue() : null;
        s.numTrainEpochs = lng(m.get("num_train_epochs"), 0);
        s.numInputTokensSeen = lng(m.get("num_input_tokens_seen"), 0);
        Double flos = dbl(m.get("total_flos"));
        s.totalFlos = flos == null ? 0 : flos;
        if (m.get("log_history") instanceof List<?> l) {
            for (Object o : l) {
                Map<String, Object> entry = new LinkedHashMap<>();
                ((Map<?, ?>) o).forEach((k, v) -> entry.put((String) k, v));
                s.logHistory.add(entry);
            }
        }
        s.bestMetric = dbl(m.get("best_metric"));
        s.bestGlobalStep = m.get("best_global_step") instanceof Number n ? n.longValue() : null;
        s.bestModelCheckpoint = (String) m.get("best_model_checkpoint");
        s.isLocalProcessZero = !Boolean.FALSE.equals(m.get("is_local_process_zero"));
        s.isWorldProcessZero = !Boolean.FALSE.equals(m.get("is_world_process_zero"));
        s.isHyperParamSearch = Boolean.TRUE.equals(m.get("is_hyper_param_search"));
        s.trialName = (String) m.get("trial_name");
        if (m.get("trial_params") instanceof Map<?, ?> tp) {
            s.trialParams = new LinkedHashMap<>();
            tp.forEach((k, v) -> s.trialParams.put((String) k, v));
        }
        if (m.get("stateful_callbacks") instanceof Map<?, ?> sc) {
            sc.forEach((k, v) -> s.statefulCallbacks.put((String) k, v));
        }
        return s;
    }

    public void save(Path file) throws IOException {
        Files.writeString(file, toJson());
    }

    public static TrainerState load(Path file) throws IOException {
        return fromJson(Files.readString(file));
    }

    private static Double dbl(Object o) {
        return o instanceof Number n ? n.doubleValue() : null;
    }

    private static long lng(Object o, long def) {
        return o instanceof Number n ? n.longValue() : def;
    }
}
