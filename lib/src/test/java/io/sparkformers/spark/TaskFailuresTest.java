package io.sparkformers.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Reading a task's bad-input reason back out of the text of Spark's job failure. */
class TaskFailuresTest {
    private static final String SPARK = "Job aborted due to stage failure: Task 0 in stage 3.0 failed 1 times, most "
            + "recent failure: Lost task 0.0 in stage 3.0 (TID 5) (host executor driver): "
            + "java.lang.IllegalArgumentException: row 1 has a null text. Set handleInvalid to 'skip'\n"
            + "\tat io.sparkformers.spark.ModelStage.emit(ModelStage.java:325)\n\nDriver stacktrace:\n\tat x.y(Z.java:1)";

    @Test
    void badInputIsTheTasksSentenceFoundThroughCauses() {
        Exception wrapped = new IllegalStateException("predict failed", new RuntimeException(SPARK));
        assertEquals(Optional.of("row 1 has a null text. Set handleInvalid to 'skip'"), TaskFailures.badInput(wrapped));
        assertEquals(Optional.empty(), TaskFailures.badInput(new RuntimeException("disk full")));
    }

    @Test
    void userMessageDropsStackTracesSparkEmbedsAsText() {
        assertEquals(
                "row 1 has a null text. Set handleInvalid to 'skip'",
                TaskFailures.userMessage(new RuntimeException(SPARK)));
        String oom = "Job aborted due to stage failure: Lost task 0.0: java.lang.OutOfMemoryError: Java heap space\n"
                + "\tat a.b(C.java:1)\n\nDriver stacktrace:\n\tat d.e(F.java:2)";
        assertEquals(
                "Job aborted due to stage failure: Lost task 0.0: java.lang.OutOfMemoryError: Java heap space",
                TaskFailures.userMessage(new RuntimeException(oom)));
        assertEquals("NullPointerException", TaskFailures.userMessage(new NullPointerException()));
    }

    @Test
    void aNonFiniteLossIsNotRetriedButReportedAsTheTasksSentence() {
        String nan = SPARK.replace(
                "java.lang.IllegalArgumentException: row 1 has a null text. Set handleInvalid to 'skip'",
                "io.sparkformers.train.NonFiniteLossException: training stopped at step 3: the loss is NaN");
        assertEquals(
                Optional.of("training stopped at step 3: the loss is NaN"),
                TaskFailures.badInput(new RuntimeException(nan)));
    }
}
