package io.sparkformers.metrics;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The one core of the sacrebleu corpus metrics ({@link BleuState}, {@link ChrfState}): each hypothesis is scored
 * against one or more references (sacrebleu's reference streams), and the corpus score is a function of counts summed
 * over the texts (sacrebleu's sufficient statistics). This class holds those counts, the per-text argument checks,
 * the merge (an element-wise sum, so merged states give the corpus score of all the data) and equality; a metric
 * declares its count layout, how one text adds to it ({@link #add(String, List)}) and the score ({@link #compute}).
 *
 * @param <S> the concrete state type
 */
public abstract class SacrebleuCounts<S extends SacrebleuCounts<S>> implements MetricState<S> {
    private static final long serialVersionUID = 1L;

    /** The summed counts, laid out as the metric declares. */
    final long[] counts;

    SacrebleuCounts(long[] counts) {
        this.counts = counts;
    }

    /** One hypothesis against one or more references; mutates and returns this state. */
    public abstract S add(String hypothesis, List<String> references);

    /** One hypothesis against its one reference. */
    public final S add(String hypothesis, String reference) {
        return add(hypothesis, List.of(reference));
    }

    /** The metric's name in messages ({@code BLEU}, {@code chrF}). */
    abstract String metric();

    /** The settings two states must share to be merged ({@code "smoothed EXP"}), or {@code ""} where there are none. */
    abstract String settings();

    /** A state of the same settings holding {@code counts}. */
    abstract S withCounts(long[] counts);

    /** The per-text checks of {@link #add(String, List)}: a hypothesis, at least one reference, no null reference. */
    final void checkText(String hypothesis, List<String> references) {
        Objects.requireNonNull(hypothesis, "hypothesis");
        if (references.isEmpty())
            throw new IllegalArgumentException(metric() + " needs at least one reference per text");
        for (String r : references) Objects.requireNonNull(r, "reference");
    }

    @Override
    public final S merge(S o) {
        if (!settings().equals(o.settings())) {
            throw new IllegalArgumentException(
                    "cannot merge " + metric() + " states " + settings() + " and " + o.settings());
        }
        long[] sum = new long[counts.length];
        for (int i = 0; i < sum.length; i++) sum[i] = counts[i] + o.counts[i];
        return withCounts(sum);
    }

    @Override
    public final boolean equals(Object o) {
        return o instanceof SacrebleuCounts<?> s
                && s.getClass() == getClass()
                && s.settings().equals(settings())
                && Arrays.equals(s.counts, counts);
    }

    @Override
    public final int hashCode() {
        return Objects.hash(getClass(), settings(), Arrays.hashCode(counts));
    }
}
