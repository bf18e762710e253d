package io.sparkformers.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Corpus BLEU against sacrebleu's numbers (lib/src/test/python/make_seq2seq_metric_references.py). */
class BleuStateTest {
    static final String REFERENCES = "/metrics/bleu_references.json";

    @Test
    void matchesSacrebleuOnEveryCaseWithBothSmoothings() {
        Map<String, JsonNode> cases = SacrebleuCases.load(REFERENCES);
        for (var e : cases.entrySet()) {
            JsonNode c = e.getValue();
            List<String> hyps = SacrebleuCases.strings(c.get("hypotheses"));
            for (int i = 0; i < hyps.size(); i++) {
                assertEquals(
                        c.get("tokenized_hypotheses").get(i).asText(),
                        BleuState.tokenize13a(hyps.get(i)),
                        e.getKey() + " 13a tokens of hypothesis " + i);
            }
            for (BleuState.Smoothing sm : BleuState.Smoothing.values()) {
                Map<String, Double> m =
                        SacrebleuCases.fill(new BleuState(sm), c).compute();
                JsonNode want = c.get(sm.name().toLowerCase());
                String what = e.getKey() + " smooth " + sm;
                assertEquals(want.get("bleu").asDouble(), m.get("bleu"), 1e-9, what);
                assertEquals(want.get("brevity_penalty").asDouble(), m.get("brevity_penalty"), 1e-12, what);
                assertEquals(want.get("sys_len").asDouble(), m.get("sys_len"), what);
                assertEquals(want.get("ref_len").asDouble(), m.get("ref_len"), what);
                for (int n = 0; n < BleuState.MAX_ORDER; n++) {
                    assertEquals(
                            want.get("precisions").get(n).asDouble(),
                            m.get("precision_" + (n + 1)),
                            1e-9,
                            what + " precision " + (n + 1));
                }
            }
        }
        assertEquals(7, cases.size(), "every committed case was checked");
    }

    @Test
    void mergedShardsGiveTheCorpusScore() {
        JsonNode c = SacrebleuCases.load(REFERENCES).get("punctuation_numbers");
        BleuState merged = SacrebleuCases.assertMergeIsTheCorpus(BleuState::new, c);
        assertEquals(c.get("exp").get("bleu").asDouble(), merged.compute().get("bleu"), 1e-9);
    }

    @Test
    void statesOfDifferentSmoothingAreNotMerged() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> new BleuState().merge(new BleuState(BleuState.Smoothing.NONE)));
        assertEquals("cannot merge BLEU states smoothed EXP and smoothed NONE", e.getMessage());
    }
}
