package io.sparkformers.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkformers.metrics.ClassificationState.Average;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ClassificationStateTest {
    private static final double EPS = 1e-12;

    /** scikit-learn's f1_score / precision_score / recall_score docstring example. */
    private static ClassificationState sklearnDocExample() {
        return new ClassificationState(3).addAll(new int[] {0, 1, 2, 0, 1, 2}, new int[] {0, 2, 1, 0, 0, 1});
    }

    @Test
    void f1MatchesScikitLearnDocExampleForEveryAverage() {
        ClassificationState s = sklearnDocExample();
        assertEquals(0.26666666666666666, s.f1(Average.MACRO), EPS);
        assertEquals(0.3333333333333333, s.f1(Average.MICRO), EPS);
        assertEquals(0.26666666666666666, s.f1(Average.WEIGHTED), EPS);
    }

    @Test
    void precisionAndRecallMatchScikitLearnDocExample() {
        ClassificationState s = sklearnDocExample();
        assertEquals(0.2222222222222222, s.precision(Average.MACRO), EPS);
        assertEquals(0.3333333333333333, s.precision(Average.MICRO), EPS);
        assertEquals(0.2222222222222222, s.precision(Average.WEIGHTED), EPS);
        assertEquals(0.3333333333333333, s.recall(Average.MACRO), EPS);
        assertEquals(0.3333333333333333, s.recall(Average.MICRO), EPS);
        assertEquals(0.3333333333333333, s.recall(Average.WEIGHTED), EPS);
    }

    @Test
    void accuracyMatchesScikitLearnDocExample() {
        ClassificationState s = new ClassificationState(4).addAll(new int[] {0, 2, 1, 3}, new int[] {0, 1, 2, 3});
        assertEquals(0.5, s.accuracy(), EPS);
    }

    @Test
    void matthewsCorrelationMatchesScikitLearnDocExample() {
        // matthews_corrcoef([+1, +1, +1, -1], [+1, -1, +1, +1]) = -0.33...; label -1 -> 0, +1 -> 1
        ClassificationState s = new ClassificationState(2).addAll(new int[] {1, 1, 1, 0}, new int[] {1, 0, 1, 1});
        assertEquals(-1.0 / 3.0, s.matthewsCorrelation(), EPS);
    }

    @Test
    void multiclassMatthewsCorrelationFollowsCovarianceFormula() {
        ClassificationState s =
                new ClassificationState(3).addAll(new int[] {0, 0, 1, 1, 2, 2}, new int[] {0, 0, 1, 2, 2, 2});
        // t = [2,2,2], p = [2,1,3], correct 5, n 6: (5*6 - 12) / sqrt((36 - 12) * (36 - 14))
        assertEquals(18.0 / Math.sqrt(24.0 * 22.0), s.matthewsCorrelation(), EPS);
    }

    @Test
    void matthewsCorrelationIsZeroWhenAllPredictionsAreOneClass() {
        ClassificationState s = new ClassificationState(2).addAll(new int[] {0, 1, 1}, new int[] {1, 1, 1});
        assertEquals(0.0, s.matthewsCorrelation());
    }

    @Test
    void binaryAverageScoresLabelOne() {
        // tp=2 (1->1), fp=1 (0->1), fn=1 (1->0), tn=1
        ClassificationState s = new ClassificationState(2).addAll(new int[] {1, 1, 0, 1, 0}, new int[] {1, 1, 1, 0, 0});
        assertEquals(2.0 / 3.0, s.precision(Average.BINARY), EPS);
        assertEquals(2.0 / 3.0, s.recall(Average.BINARY), EPS);
        assertEquals(4.0 / 6.0, s.f1(Average.BINARY), EPS);
        assertEquals(s.f1(Average.BINARY), s.compute().get("f1"));
    }

    @Test
    void zeroDivisionGivesZeroWhenThePositiveClassNeverOccurs() {
        ClassificationState s = new ClassificationState(2).addAll(new int[] {0, 0, 0}, new int[] {0, 0, 0});
        assertEquals(0.0, s.precision(Average.BINARY));
        assertEquals(0.0, s.recall(Average.BINARY));
        assertEquals(0.0, s.f1(Average.BINARY));
        assertEquals(1.0, s.accuracy());
    }

    @Test
    void macroAverageSkipsLabelsThatNeverOccurLikeScikitLearn() {
        // label 2 is neither true nor predicted: scikit-learn (labels=None) averages over {0, 1} only
        ClassificationState s = new ClassificationState(3).addAll(new int[] {0, 1}, new int[] {0, 1});
        assertEquals(1.0, s.f1(Average.MACRO));
    }

    @Test
    void binaryAverageRejectsMoreThanTwoLabels() {
        var e = assertThrows(
                IllegalStateException.class, () -> sklearnDocExample().f1(Average.BINARY));
        assertTrue(e.getMessage().contains("needs 2 labels but this state has 3"), e.getMessage());
    }

    @Test
    void rejectsLabelOutsideRange() {
        var e = assertThrows(IllegalArgumentException.class, () -> new ClassificationState(2).add(2, 0));
        assertEquals("label 2 is outside [0, 2)", e.getMessage());
    }

    @Test
    void logitsArePredictedByArgmaxFirstIndexOnTies() {
        ClassificationState s =
                new ClassificationState(3).addLogits(new float[] {0.1f, 2f, -1f, 5f, 5f, 0f}, new int[] {1, 0});
        assertEquals(1, s.count(1, 1));
        assertEquals(1, s.count(0, 0));
    }

    @Test
    void computeUsesHfKeys() {
        Map<String, Double> m = sklearnDocExample().compute();
        assertEquals(0.26666666666666666, m.get("f1"), EPS); // macro for more than two labels
        assertEquals(0.3333333333333333, m.get("f1_micro"), EPS);
        assertEquals(0.26666666666666666, m.get("f1_weighted"), EPS);
        assertEquals(1.0 / 3.0, m.get("accuracy"), EPS);
        assertTrue(m.containsKey("matthews_correlation"));
        assertTrue(m.containsKey("precision_macro") && m.containsKey("recall_weighted"));
    }

    @Test
    void mergingSplitsEqualsTheStateOverAllData() {
        Random rnd = new Random(7);
        int n = 1000;
        int[] y = new int[n];
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = rnd.nextInt(5);
            p[i] = rnd.nextInt(3) == 0 ? rnd.nextInt(5) : y[i];
        }
        ClassificationState all = new ClassificationState(5).addAll(y, p);
        ClassificationState a = new ClassificationState(5);
        ClassificationState b = new ClassificationState(5);
        for (int i = 0; i < n; i++) (i % 3 == 0 ? a : b).add(y[i], p[i]);
        assertEquals(all, a.merge(b));
        assertEquals(all.compute(), a.merge(b).compute());
        assertEquals(all.compute(), b.merge(a).compute());
        assertEquals(a.merge(b), b.merge(a));
    }

    @Test
    void mergeLeavesInputsUnchanged() {
        ClassificationState a = new ClassificationState(2).add(0, 0);
        ClassificationState b = new ClassificationState(2).add(1, 1);
        a.merge(b);
        assertEquals(1, a.total());
        assertEquals(1, b.total());
    }
}
