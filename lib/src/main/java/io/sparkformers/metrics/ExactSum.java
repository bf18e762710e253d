package io.sparkformers.metrics;

import java.io.Serializable;
import java.math.BigDecimal;
import java.math.MathContext;

/**
 * A sum of doubles (and of products of doubles) kept without rounding, so partial sums merge to exactly the same
 * value in any order: floating-point addition is not associative, and metrics must not depend on how Spark split
 * the data. Every finite double is exactly a {@link BigDecimal}, and so are their sums and products.
 */
public final class ExactSum implements Serializable {
    private static final long serialVersionUID = 1L;

    private BigDecimal value;

    public ExactSum() {
        this(BigDecimal.ZERO);
    }

    private ExactSum(BigDecimal value) {
        this.value = value;
    }

    /** Adds {@code x} exactly; infinities and NaN are refused because they have no exact representation. */
    public ExactSum add(double x) {
        value = value.add(exact(x));
        return this;
    }

    /** Adds the exact product {@code a * b} (no rounding of the product either). */
    public ExactSum addProduct(double a, double b) {
        value = value.add(exact(a).multiply(exact(b)));
        return this;
    }

    /** A new sum holding {@code this + other}; neither changes. */
    public ExactSum plus(ExactSum other) {
        return new ExactSum(value.add(other.value));
    }

    /** The exact sum. */
    public BigDecimal exact() {
        return value;
    }

    /** The sum rounded once to the nearest double. */
    public double doubleValue() {
        return value.doubleValue();
    }

    /** The exact sum divided by {@code n}, rounded once (a mean with a single rounding). */
    public double dividedBy(long n) {
        return value.divide(BigDecimal.valueOf(n), MathContext.DECIMAL128).doubleValue();
    }

    private static BigDecimal exact(double x) {
        if (!Double.isFinite(x)) throw new IllegalArgumentException("cannot sum non-finite value " + x);
        return new BigDecimal(x);
    }

    @Override
    public boolean equals(Object o) {
        // compareTo, not BigDecimal.equals: 1.0 and 1.00 are the same sum
        return o instanceof ExactSum s && value.compareTo(s.value) == 0;
    }

    @Override
    public int hashCode() {
        return value.stripTrailingZeros().hashCode();
    }

    @Override
    public String toString() {
        return value.toString();
    }
}
