package io.sparkformers.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/** States travel between Spark tasks and the driver by Java serialization; they must arrive equal. */
class MetricStateSerializationTest {

    @SuppressWarnings("unchecked")
    private static <T> T roundTrip(T value) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(value);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (T) in.readObject();
        }
    }

    @Test
    void everyStateSurvivesJavaSerializationEqual() throws Exception {
        List<MetricState<?>> states = List.of(
                new ClassificationState(3).add(0, 1).add(2, 2),
                new MultiLabelState(2).add(new boolean[] {true, false}, new boolean[] {true, true}),
                new RegressionState().add(0.1, 0.3),
                new SeqevalState().add(List.of("B-PER", "O"), List.of("B-PER", "B-LOC")),
                new SquadState().add("the cat", List.of("cat")),
                new BleuState(BleuState.Smoothing.NONE).add("the cat sat", "the cat sat down"),
                new ChrfState().add("the cat sat", List.of("a cat sat", "the cat")));
        for (MetricState<?> s : states) {
            MetricState<?> back = roundTrip(s);
            assertEquals(s, back, s.toString());
            assertEquals(s.compute(), back.compute(), s.toString());
        }
    }
}
