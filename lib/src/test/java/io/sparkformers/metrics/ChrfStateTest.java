package io.sparkformers.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Corpus chrF against sacrebleu's numbers (lib/src/test/python/make_chrf_references.py). */
class ChrfStateTest {
    static final String REFERENCES = "/metrics/chrf_references.json";

    @Test
    void matchesSacrebleuOnEveryCase() {
        Map<String, JsonNode> cases = SacrebleuCases.load(REFERENCES);
        for (var e : cases.entrySet()) {
            ChrfState s = SacrebleuCases.fill(new ChrfState(), e.getValue());
            assertEquals(e.getValue().get("chrf").asDouble(), s.compute().get("chrf"), 1e-9, e.getKey());
        }
        assertEquals(12, cases.size(), "every committed case was checked");
    }

    @Test
    void mergedStatesGiveTheCorpusScore() {
        JsonNode c = SacrebleuCases.load(REFERENCES).get("punctuation_numbers");
        ChrfState merged = SacrebleuCases.assertMergeIsTheCorpus(ChrfState::new, c);
        assertEquals(c.get("chrf").asDouble(), merged.compute().get("chrf"), 1e-9);
    }

    @Test
    void aTextWithoutReferencesIsRefused() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> new ChrfState().add("text", List.of()));
        assertTrue(e.getMessage().contains("chrF needs at least one reference per text"), e.getMessage());
    }
}
