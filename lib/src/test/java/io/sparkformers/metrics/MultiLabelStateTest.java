package io.sparkformers.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MultiLabelStateTest {
    private static final double EPS = 1e-12;

    private static boolean[] b(int... v) {
        boolean[] out = new boolean[v.length];
        for (int i = 0; i < v.length; i++) out[i] = v[i] != 0;
        return out;
    }

    @Test
    void f1MatchesScikitLearnMultilabelDocExample() {
        // f1_score([[0,0,0],[1,1,1],[0,1,1]], [[0,0,0],[1,1,1],[1,1,0]], average=None) = [0.667, 1, 0.667]
        MultiLabelState s = new MultiLabelState(3)
                .add(b(0, 0, 0), b(0, 0, 0))
                .add(b(1, 1, 1), b(1, 1, 1))
                .add(b(0, 1, 1), b(1, 1, 0));
        Map<String, Double> m = s.compute();
        assertEquals((2.0 / 3 + 1 + 2.0 / 3) / 3, m.get("f1_macro"), EPS);
        assertEquals(8.0 / 10.0, m.get("f1_micro"), EPS); // tp 4, fp 1, fn 1
        assertEquals(2.0 / 3.0, m.get("accuracy"), EPS); // subset accuracy: 2 of 3 rows exact
        assertEquals(4.0 / 5.0, m.get("precision_micro"), EPS);
        assertEquals(4.0 / 5.0, m.get("recall_micro"), EPS);
    }

    @Test
    void macroAveragesOverEveryLabelColumnWithZeroDivisionZero() {
        // label 1 never true, never predicted: scikit-learn keeps the column in the macro mean with score 0
        MultiLabelState s = new MultiLabelState(2).add(b(1, 0), b(1, 0));
        assertEquals(0.5, s.compute().get("f1_macro"), EPS);
        assertEquals(1.0, s.compute().get("f1_micro"), EPS);
    }

    @Test
    void logitsAreThresholdedOnTheSigmoid() {
        // sigmoid(0) = 0.5 >= 0.5 predicts the label; sigmoid(-0.1) < 0.5 does not
        MultiLabelState s =
                new MultiLabelState(3).addLogits(new float[] {0f, -0.1f, 3f}, new float[] {1f, 0f, 1f}, 0.5);
        assertEquals(1.0, s.subsetAccuracy());
        MultiLabelState strict =
                new MultiLabelState(3).addLogits(new float[] {0f, -0.1f, 3f}, new float[] {1f, 0f, 1f}, 0.9);
        assertEquals(0.0, strict.subsetAccuracy());
    }

    @Test
    void mergingSplitsEqualsTheStateOverAllData() {
        Random rnd = new Random(3);
        MultiLabelState all = new MultiLabelState(4);
        MultiLabelState a = new MultiLabelState(4);
        MultiLabelState c = new MultiLabelState(4);
        for (int i = 0; i < 500; i++) {
            boolean[] t = new boolean[4];
            boolean[] p = new boolean[4];
            for (int k = 0; k < 4; k++) {
                t[k] = rnd.nextBoolean();
                p[k] = rnd.nextInt(4) == 0 ? !t[k] : t[k];
            }
            all.add(t, p);
            (rnd.nextBoolean() ? a : c).add(t, p);
        }
        assertEquals(all, a.merge(c));
        assertEquals(all.compute(), c.merge(a).compute());
    }
}
