package io.sparkformers.nn;

/** A checkpoint that does not fit the model; {@link #report()} has every disagreement, not just the first. */
public final class WeightLoadException extends RuntimeException {

    private final transient LoadReport report;

    public WeightLoadException(String modelName, LoadReport report) {
        super("error(s) loading weights into " + modelName + ": " + report.describe());
        this.report = report;
    }

    public LoadReport report() {
        return report;
    }
}
