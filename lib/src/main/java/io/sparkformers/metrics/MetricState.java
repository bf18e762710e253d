package io.sparkformers.metrics;

import java.io.Serializable;
import java.util.Map;

/**
 * A metric's sufficient statistics (counts and exact sums) for part of an evaluation set, in the spirit of HF
 * {@code evaluate}'s {@code add_batch}/{@code compute} split, but mergeable: workers each fill a state over their
 * shard, the states are merged in any order and grouping, and {@link #compute()} gives the same numbers, bit for bit,
 * as one state filled with all the data.
 *
 * <p>States are filled through their own {@code add…} methods (which mutate and return {@code this}); {@link #merge}
 * never mutates either side.
 *
 * @param <S> the concrete state type
 */
public interface MetricState<S extends MetricState<S>> extends Serializable {

    /** A new state over the union of the data in {@code this} and {@code other}; neither input changes. */
    S merge(S other);

    /** The metric values, keyed as HF {@code evaluate} names them ({@code "accuracy"}, {@code "f1"}, …). */
    Map<String, Double> compute();
}
