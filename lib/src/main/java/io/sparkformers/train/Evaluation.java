package io.sparkformers.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.sparkformers.metrics.ClassificationState;
import io.sparkformers.metrics.MetricState;
import io.sparkformers.metrics.MultiLabelState;
import io.sparkformers.metrics.RegressionState;
import io.sparkformers.metrics.SeqevalState;
import io.sparkformers.nn.PretrainedModel;
import io.sparkformers.train.DataCollatorWithPadding.Batch;
import io.sparkformers.train.DataCollatorWithPadding.Example;
import io.sparkformers.train.DataCollatorWithPadding.LabelKind;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * HF {@code Trainer.evaluate} with the built-in {@code compute_metrics} of each task: batches in order, inference mode,
 * {@code eval_loss} as the example-weighted mean of batch losses (HF repeats each batch loss by its size), then the
 * metrics of a mergeable state — {@link ClassificationState} (single-label), {@link MultiLabelState} (sigmoid ≥ 0.5),
 * {@link RegressionState}, {@link SeqevalState} (token classification) — all keys with HF's {@code eval_} prefix, plus
 * {@code eval_runtime}, {@code eval_samples_per_second} and {@code eval_steps_per_second}.
 */
public final class Evaluation {
    private Evaluation() {}

    /**
     * @param labelNames id2label in id order (unused for regression)
     */
    public static Map<String, Double> run(
            PretrainedModel model,
            NDManager manager,
            TrainingData data,
            int batchSize,
            LabelKind kind,
            List<String> labelNames,
            double labelSmoothing,
            long padTokenId) {
        return metrics(List.of(
                partial(model, manager, data.examples(), batchSize, kind, labelNames, labelSmoothing, padTokenId)));
    }

    /**
     * One replica's share of an evaluation: the summed loss, counts and the mergeable metric state of its examples.
     * Partials of disjoint shards merged by {@link #metrics} give exactly the numbers of one evaluation over all.
     *
     * @param lossSum sum over examples of the batch loss (HF repeats each batch loss by its size)
     * @param seconds wall time of this partial
     */
    public record Partial(double lossSum, long examples, int steps, MetricState<?> state, double seconds)
            implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** Evaluates {@code ex} (possibly empty: a replica without eval rows) into a {@link Partial}. */
    public static Partial partial(
            PretrainedModel model,
            NDManager manager,
            List<Example> ex,
            int batchSize,
            LabelKind kind,
            List<String> labelNames,
            double labelSmoothing,
            long padTokenId) {
        long t0 = System.nanoTime();
        DataCollatorWithPadding collator = new DataCollatorWithPadding(padTokenId);
        double lossSum = 0;
        long n = 0;
        int steps = 0;
        ClassificationState cls =
                kind == LabelKind.SINGLE_LABEL ? new ClassificationState(Math.max(2, labelNames.size())) : null;
        MultiLabelState multi = kind == LabelKind.MULTI_LABEL ? new MultiLabelState(labelNames.size()) : null;
        RegressionState reg = kind == LabelKind.REGRESSION ? new RegressionState() : null;
        SeqevalState seq = kind == LabelKind.TOKEN ? new SeqevalState() : null;
        for (int from = 0; from < ex.size(); from += batchSize) {
            Batch b = collator.collate(ex.subList(from, Math.min(ex.size(), from + batchSize)));
            try (NDManager scope = manager.newSubManager()) {
                NDArray[] out;
                try (TrainingLock.Held lock = TrainingLock.acquire()) {
                    out = TrainStep.predict(model, scope, b, kind, labelSmoothing);
                }
                float[] logits = out[0].toFloatArray();
                lossSum += out[1].getFloat() * b.batchSize();
                n += b.batchSize();
                steps++;
                switch (kind) {
                    case SINGLE_LABEL -> cls.addLogits(logits, toInts(b.labelIds()));
                    case MULTI_LABEL -> multi.addLogits(logits, b.labelValues(), 0.5);
                    case REGRESSION -> reg.addAll(logits, b.labelValues());
                    case TOKEN -> addTokens(seq, logits, b, labelNames);
                    default -> throw new IllegalArgumentException("evaluation needs labels");
                }
            }
        }
        MetricState<?> state = switch (kind) {
            case SINGLE_LABEL -> cls;
            case MULTI_LABEL -> multi;
            case REGRESSION -> reg;
            case TOKEN -> seq;
            default -> throw new IllegalArgumentException("evaluation needs labels");
        };
        return new Partial(lossSum, n, steps, state, (System.nanoTime() - t0) / 1e9);
    }

    /**
     * The HF metrics of the union of {@code partials} (merged in list order; the counts and sums are exact, so any
     * order gives the same numbers): eval_loss, the task's metrics, and runtime figures from the slowest partial.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public static Map<String, Double> metrics(List<Partial> partials) {
        double lossSum = 0;
        long n = 0;
        int steps = 0;
        double secs = 0;
        MetricState merged = null;
        for (Partial p : partials) {
            lossSum += p.lossSum();
            n += p.examples();
            steps += p.steps();
            secs = Math.max(secs, p.seconds());
            merged = merged == null ? p.state() : (MetricState) merged.merge(p.state());
        }
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("eval_loss", lossSum / n);
        Map<String, Double> computed = merged.compute();
        computed.forEach((k, v) -> metrics.put("eval_" + k, v));
        metrics.put("eval_runtime", round4(secs));
        metrics.put("eval_samples_per_second", Math.round(n / secs * 1000) / 1000.0);
        metrics.put("eval_steps_per_second", Math.round(steps / secs * 1000) / 1000.0);
        return metrics;
    }

    private static void addTokens(SeqevalState seq, float[] logits, Batch b, List<String> labelNames) {
        int t = b.seqLength();
        int c = labelNames.size();
        for (int i = 0; i < b.batchSize(); i++) {
            int[] labels = new int[t];
            int[] preds = new int[t];
            for (int j = 0; j < t; j++) {
                labels[j] = (int) b.labelIds()[i * t + j];
                int off = (i * t + j) * c;
                int best = 0;
                for (int k = 1; k < c; k++) if (logits[off + k] > logits[off + best]) best = k;
                preds[j] = best;
            }
            seq.addIds(labels, preds, labelNames);
        }
    }

    private static int[] toInts(long[] a) {
        return Arrays.stream(a).mapToInt(Math::toIntExact).toArray();
    }

    static double round4(double v) {
        return Math.round(v * 10000) / 10000.0;
    }

    /** Keys of {@code metrics} without the "eval_" prefix, for reports. */
    public static List<String> names(Map<String, Double> metrics) {
        List<String> out = new ArrayList<>();
        for (String k : metrics.keySet()) out.add(k.startsWith("eval_") ? k.substring(5) : k);
        return out;
    }
}
