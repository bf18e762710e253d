package io.sparkformers.train;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * HF's {@code EarlyStoppingCallback}: after each evaluation, the metric improves when it beats {@code
 * state.bestMetric} in the direction of greater_is_better by more than {@code threshold}; an improvement resets the
 * patience counter, anything else adds one, and training stops once the counter reaches {@code patience}. The
 * comparison is against the best metric before this evaluation (HF runs on_evaluate before updating it).
 */
public final class EarlyStoppingCallback implements TrainerCallback {
    private static final System.Logger LOG = System.getLogger(EarlyStoppingCallback.class.getName());

    private final int patience;
    private final double threshold;
    private int patienceCounter;

    /**
     * @param patience  evaluations without improvement before stopping (HF {@code early_stopping_patience}, 1)
     * @param threshold how much better than the best a metric must be to count (HF {@code
     *                  early_stopping_threshold}, 0.0)
     */
    public EarlyStoppingCallback(int patience, double threshold) {
        if (patience < 1)
            throw new IllegalArgumentException("early_stopping_patience must be >= 1 but was " + patience);
        if (!(threshold >= 0)) {
            throw new IllegalArgumentException("early_stopping_threshold must be >= 0 but was " + threshold);
        }
        this.patience = patience;
        this.threshold = threshold;
    }

    public int patienceCounter() {
        return patienceCounter;
    }

    /**
     * The checks HF asserts at train begin; call it when the callback is registered so a bad setup fails before
     * training.
     */
    public void checkArguments(TrainingArguments args) {
        if (!args.loadBestModelAtEnd()) {
            throw new IllegalArgumentException("EarlyStoppingCallback requires load_best_model_at_end = true");
        }
        if (args.metricForBestModel() == null) {
            throw new IllegalArgumentException("EarlyStoppingCallback requires metric_for_best_model to be defined");
        }
        if ("no".equals(args.evalStrategy())) {
            throw new IllegalArgumentException("EarlyStoppingCallback requires eval_strategy 'steps' or 'epoch'");
        }
    }

    @Override
    public void onTrainBegin(TrainingArguments args, TrainerState state, TrainerControl control) {
        checkArguments(args);
    }

    @Override
    public void onEvaluate(
            TrainingArguments args, TrainerState state, TrainerControl control, Map<String, Double> metrics) {
        String key = args.bestMetricKey();
        Double value = metrics.get(key);
        if (value == null) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "early stopping required metric_for_best_model, but did not find " + key
                            + " so early stopping is disabled");
            return;
        }
        checkMetricValue(args, state, value);
        if (patienceCounter >= patience) control.shouldTrainingStop = true;
    }

    /** HF {@code check_metric_value}. */
    void checkMetricValue(TrainingArguments args, TrainerState state, double metric) {
        boolean greater = Boolean.TRUE.equals(args.greaterIsBetter());
        Double best = state.bestMetric;
        boolean better = best != null && (greater ? metric > best : metric < best);
        if (best == null || (better && Math.abs(metric - best) > threshold)) {
            patienceCounter = 0;
        } else {
            patienceCounter++;
        }
    }

    /** HF {@code ExportableState.state()}: the entry under {@code stateful_callbacks.EarlyStoppingCallback}. */
    public Map<String, Object> state() {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("early_stopping_patience", patience);
        a.put("early_stopping_threshold", threshold);
        Map<String, Object> attrs = new LinkedHashMap<>();
        attrs.put("early_stopping_patience_counter", patienceCounter);
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("args", a);
        s.put("attributes", attrs);
        return s;
    }

    /** Restores a callback from {@link #state()}, as HF does on resume (restore_callback_states_from_checkpoint). */
    public static EarlyStoppingCallback fromState(Map<String, ?> state) {
        Map<?, ?> a = (Map<?, ?>) state.get("args");
        Map<?, ?> attrs = (Map<?, ?>) state.get("attributes");
        EarlyStoppingCallback c = new EarlyStoppingCallback(
                ((Number) a.get("early_stopping_patience")).intValue(),
                ((Number) a.get("early_stopping_threshold")).doubleValue());
        if (attrs != null && attrs.get("early_stopping_patience_counter") instanceof Number n) {
            c.patienceCounter = n.intValue();
        }
        return c;
    }
}
