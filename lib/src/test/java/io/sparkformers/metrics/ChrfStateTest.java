package io.sparkformers.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Corpus chrF against sacrebleu's numbers (lib/src/test/python/make_chrf_references.py). */
class ChrfStateTest {

    private static JsonNode references() throws IOException {
        try (InputStream in = ChrfStateTest.class.getResourceAsStream("/metrics/chrf_references.json")) {
            return new ObjectMapper().readTree(in);
        }
    }

    private static List<String> strings(JsonNode n) {
        List<String> out = new ArrayList<>();
        n.forEach(x -> out.add(x.asText()));
        return out;
    }

    @Test
    void matchesSacrebleuOnEveryCase() throws IOException {
        int cases = 0;
        for (var it = references().fields(); it.hasNext(); ) {
            var e = it.next();
            if (e.getKey().startsWith("_")) continue;
            JsonNode c = e.getValue();
            List<String> hyps = strings(c.get("hypotheses"));
            ChrfState s = new ChrfState();
            for (int i = 0; i < hyps.size(); i++)
                s.add(hyps.get(i), strings(c.get("references").get(i)));
            assertEquals(c.get("chrf").asDouble(), s.compute().get("chrf"), 1e-9, e.getKey());
            cases++;
        }
        assertEquals(12, cases, "every committed case was checked");
    }

    @Test
    void mergedStatesGiveTheCorpusScore() throws IOException {
        JsonNode c = references().get("punctuation_numbers");
        List<String> hyps = strings(c.get("hypotheses"));
        ChrfState whole = new ChrfState();
        ChrfState first = new ChrfState();
        ChrfState rest = new ChrfState();
        for (int i = 0; i < hyps.size(); i++) {
            List<String> refs = strings(c.get("references").get(i));
            whole.add(hyps.get(i), refs);
            (i == 0 ? first : rest).add(hyps.get(i), refs);
        }
        assertEquals(whole.compute(), first.merge(rest).compute());
        assertEquals(whole.compute(), rest.merge(first).compute());
    }

    @Test
    void aTextWithoutReferencesIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new ChrfState().add("text", List.of()));
    }
}
