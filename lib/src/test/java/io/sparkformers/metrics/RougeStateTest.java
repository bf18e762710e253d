package io.sparkformers.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * ROUGE against hand-computed cases (rouge_score is not on the local package indexes, so no Python reference): each
 * expected value is worked out in the comment beside it from rouge_score's definitions.
 */
class RougeStateTest {
    private static final double EPS = 1e-12;

    @Test
    void tokenizerLowercasesAndSplitsOnEverythingButAsciiAlnum() {
        assertEquals(
                List.of("re", "your", "account", "42", "isn", "t", "ready"),
                RougeState.tokenize("Re: Your ACCOUNT #42 isn't ready!"));
        assertEquals(List.of("caf", "au", "lait"), RougeState.tokenize("Café au-lait")); // é is a separator
        assertEquals(List.of(), RougeState.tokenize(" ,;! "));
    }

    @Test
    void handComputedScores() {
        // pred [the cat sat on the mat] (6), ref [the cat is on the mat] (6)
        // unigrams: the x2, cat, on, mat shared = 5 -> P = R = F = 5/6
        // bigrams: pred {the cat, cat sat, sat on, on the, the mat}, ref {the cat, cat is, is on, on the, the mat}:
        //   shared 3 of 5 each -> F = 3/5
        // LCS: the cat on the mat = 5 -> F = 5/6
        RougeState s = new RougeState().add("The cat sat on the mat.", "the cat is on the mat");
        Map<String, Double> m = s.compute();
        assertEquals(5.0 / 6, m.get("rouge1"), EPS);
        assertEquals(3.0 / 5, m.get("rouge2"), EPS);
        assertEquals(5.0 / 6, m.get("rougeL"), EPS);

        // pred [a b c d] ref [d c b a x]: unigrams 4 -> P 1, R 4/5 -> F 8/9; no shared bigram -> 0;
        // LCS 1 -> P 1/4, R 1/5 -> F = 2*(1/20)/(9/20) = 2/9
        RougeState t = new RougeState().add("a b c d", "d c b a x");
        assertEquals(8.0 / 9, t.compute().get("rouge1"), EPS);
        assertEquals(0.0, t.compute().get("rouge2"), EPS);
        assertEquals(2.0 / 9, t.compute().get("rougeL"), EPS);

        // repeated tokens are clipped: pred [the the the] ref [the cat]: overlap 1 -> P 1/3, R 1/2 -> F 2/5
        // bigrams: pred {the the x2} ref {the cat} -> 0 ; LCS 1 -> F 2/5
        RougeState u = new RougeState().add("the the the", "the cat");
        assertEquals(0.4, u.compute().get("rouge1"), EPS);
        assertEquals(0.0, u.compute().get("rouge2"), EPS);
        assertEquals(0.4, u.compute().get("rougeL"), EPS);

        // an empty prediction scores 0 everywhere
        RougeState v = new RougeState().add("!!!", "the cat");
        assertEquals(0.0, v.compute().get("rouge1"));
        assertEquals(0.0, v.compute().get("rougeL"));
    }

    @Test
    void averageIsTheMeanOfPerTextScoresAndMergesExactly() {
        RougeState a = new RougeState().add("The cat sat on the mat.", "the cat is on the mat");
        RougeState b = new RougeState().add("a b c d", "d c b a x");
        Map<String, Double> m = a.merge(b).compute();
        assertEquals((5.0 / 6 + 8.0 / 9) / 2, m.get("rouge1"), EPS);
        assertEquals((3.0 / 5 + 0) / 2, m.get("rouge2"), EPS);
        assertEquals((5.0 / 6 + 2.0 / 9) / 2, m.get("rougeL"), EPS);
        assertEquals(Double.NaN, new RougeState().compute().get("rouge1"));
    }
}
