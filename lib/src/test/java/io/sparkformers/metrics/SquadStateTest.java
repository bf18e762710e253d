package io.sparkformers.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SquadStateTest {
    private static final double EPS = 1e-12;

    @Test
    void normalisationLowercasesDropsPunctuationArticlesAndExtraSpaces() {
        assertEquals("eiffel tower", SquadState.normalize("  The Eiffel   Tower!"));
        assertEquals("eiffeltower", SquadState.normalize("Eiffel-Tower")); // punctuation is deleted, not spaced
        assertEquals("apple", SquadState.normalize("an\tapple."));
        assertEquals("theory", SquadState.normalize("Theory")); // articles only as whole words
    }

    @Test
    void exactMatchIgnoresCaseArticlesAndPunctuation() {
        assertTrue(SquadState.exactMatch("The Eiffel Tower!", "eiffel tower"));
        assertFalse(SquadState.exactMatch("Eiffel", "eiffel tower"));
    }

    @Test
    void f1CountsSharedTokensAsAMultiset() {
        // pred [in, paris, france] vs gold [paris]: p = 1/3, r = 1 -> 0.5
        assertEquals(0.5, SquadState.f1("in Paris France", "Paris"), EPS);
        // repeated tokens count only as often as both sides hold them: p = 1/2, r = 1/1
        assertEquals(2 * 0.5 / 1.5, SquadState.f1("paris paris", "paris"), EPS);
        assertEquals(0.0, SquadState.f1("London", "Paris"));
    }

    @Test
    void scoresTakeTheBestGoldAnswerAndArePercentages() {
        SquadState s = new SquadState()
                .add("1976", List.of("1976"))
                .add("in Paris France", List.of("Paris", "Paris, France")); // best F1 0.8, no exact match
        Map<String, Double> m = s.compute();
        assertEquals(50.0, m.get("exact_match"), EPS);
        assertEquals(100.0 * (1.0 + 0.8) / 2, m.get("f1"), EPS);
    }

    @Test
    void mergingSplitsEqualsOneState() {
        String[] preds = {"a cat", "the dog barked", "blue", "red green", "x"};
        List<List<String>> golds = List.of(
                List.of("cat"),
                List.of("dog", "a dog barked loudly"),
                List.of("Blue."),
                List.of("green"),
                List.of("y"));
        SquadState all = new SquadState();
        SquadState a = new SquadState();
        SquadState b = new SquadState();
        for (int i = 0; i < preds.length; i++) {
            all.add(preds[i], golds.get(i));
            (i < 2 ? a : b).add(preds[i], golds.get(i));
        }
        assertEquals(all, b.merge(a));
        assertEquals(all.compute(), a.merge(b).compute());
    }
}
