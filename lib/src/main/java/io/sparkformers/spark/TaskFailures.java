package io.sparkformers.spark;

import io.sparkformers.train.NonFiniteLossException;
import java.util.List;
import java.util.Optional;

/**
 * What a failed Spark job says about its cause. A task's exception reaches the driver only as text inside the
 * {@code SparkException} message ("Job aborted due to stage failure: … : java.lang.IllegalArgumentException:
 * &lt;reason&gt;\n\tat …\n\nDriver stacktrace:"); this reads the reason back out of it, in one place.
 */
public final class TaskFailures {
    /**
     * Failures a retry would only repeat: bad input, and a non-finite training loss (the retry would resume from the
     * last checkpoint and diverge at the same step).
     */
    private static final List<String> BAD_INPUT =
            List.of(IllegalArgumentException.class.getName() + ": ", NonFiniteLossException.class.getName() + ": ");

    private TaskFailures() {}

    /**
     * The reason of an {@code IllegalArgumentException} a Spark task threw (bad input, to be reported to the user as
     * such), found in the message of {@code e} or of one of its causes; empty when the failure is something else.
     */
    public static Optional<String> badInput(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String m = t.getMessage();
            if (t instanceof NonFiniteLossException) return Optional.of(firstLine(m));
            for (String marker : BAD_INPUT) {
                int at = m == null ? -1 : m.indexOf(marker);
                if (at >= 0) return Optional.of(firstLine(m.substring(at + marker.length())));
            }
        }
        return Optional.empty();
    }

    /**
     * A failure's message for one line on a terminal: the bad-input reason of a failed task, else the message without
     * the stack traces Spark embeds as text ("\n\tat …", "Driver stacktrace:").
     */
    public static String userMessage(Throwable e) {
        Optional<String> reason = badInput(e);
        if (reason.isPresent()) return reason.get();
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int cut = m.length();
        for (String marker : new String[] {"\n\tat ", "\nDriver stacktrace:"}) {
            int at = m.indexOf(marker);
            if (at >= 0) cut = Math.min(cut, at);
        }
        return m.substring(0, cut).strip();
    }

    static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
