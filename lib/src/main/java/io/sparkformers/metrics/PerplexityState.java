package io.sparkformers.metrics;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Language-model evaluation as HF's {@code run_mlm.py} / {@code run_clm.py} report it: {@code perplexity} is
 * {@code exp(eval_loss)}, where {@code eval_loss} is the mean of the batch losses weighted by batch size (what
 * {@code Trainer.evaluate} computes); also the number of predicted (masked or shifted) tokens seen. The sums are exact,
 * so merged states give the numbers of one state over all the data.
 */
public final class PerplexityState implements MetricState<PerplexityState> {
    private static final long serialVersionUID = 1L;

    private long examples;
    private long predictedTokens;
    private final ExactSum lossSum;

    public PerplexityState() {
        this(0, 0, new ExactSum());
    }

    private PerplexityState(long examples, long predictedTokens, ExactSum lossSum) {
        this.examples = examples;
        this.predictedTokens = predictedTokens;
        this.lossSum = lossSum;
    }

    /** One batch: its mean loss over {@code tokens} predicted tokens, repeated for its {@code batchSize} examples. */
    public PerplexityState addBatch(double meanLoss, int batchSize, long tokens) {
        lossSum.addProduct(meanLoss, batchSize);
        examples += batchSize;
        predictedTokens += tokens;
        return this;
    }

    /** {@code perplexity} (exp of the example-weighted mean loss) and {@code predicted_tokens}; NaN when empty. */
    @Override
    public Map<String, Double> compute() {
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("perplexity", examples == 0 ? Double.NaN : Math.exp(lossSum.dividedBy(examples)));
        out.put("predicted_tokens", (double) predictedTokens);
        return out;
    }

    @Override
    public PerplexityState merge(PerplexityState o) {
        return new PerplexityState(examples + o.examples, predictedTokens + o.predictedTokens, lossSum.plus(o.lossSum));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PerplexityState s
                && s.examples == examples
                && s.predictedTokens == predictedTokens
                && s.lossSum.equals(lossSum);
    }

    @Override
    public int hashCode() {
        return Objects.hash(examples, predictedTokens, lossSum);
    }

    @Override
    public String toString() {
        return "PerplexityState[examples=" + examples + "]";
    }
}
