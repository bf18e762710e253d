package io.sparkformers.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

class DidYouMeanTest {

    @Test
    void levenshteinCountsSingleEdits() {
        assertEquals(1, DidYouMean.levenshtein("lerning_rate", "learning_rate"));
        assertEquals(3, DidYouMean.levenshtein("kitten", "sitting"));
        assertEquals(0, DidYouMean.levenshtein("", ""));
    }

    @Test
    void suggestsOnlyPlausibleTypos() {
        List<String> keys = List.of("learning_rate", "fp16", "mode");
        assertEquals("learning_rate", DidYouMean.closest("Lerning_Rate", keys));
        assertEquals("mode", DidYouMean.closest("mdoe", keys));
        assertNull(DidYouMean.closest("colour", keys));
    }
}
