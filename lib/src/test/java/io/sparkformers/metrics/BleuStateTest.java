package io.sparkformers.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Corpus BLEU against sacrebleu's numbers (lib/src/test/python/make_seq2seq_metric_references.py). */
class BleuStateTest {

    private static JsonNode references() throws IOException {
        try (InputStream in = BleuStateTest.class.getResourceAsStream("/metrics/bleu_references.json")) {
            return new ObjectMapper().readTree(in);
        }
    }

    private static List<String> strings(JsonNode n) {
        List<String> out = new ArrayList<>();
        n.forEach(x -> out.add(x.asText()));
        return out;
    }

    @Test
    void matchesSacrebleuOnEveryCaseWithBothSmoothings() throws IOException {
        JsonNode refs = references();
        int cases = 0;
        for (var it = refs.fields(); it.hasNext(); ) {
            var e = it.next();
            if (e.getKey().startsWith("_")) continue;
            JsonNode c = e.getValue();
            List<String> hyps = strings(c.get("hypotheses"));
            for (int i = 0; i < hyps.size(); i++) {
                assertEquals(
                        c.get("tokenized_hypotheses").get(i).asText(),
                        BleuState.tokenize13a(hyps.get(i)),
                        e.getKey() + " 13a tokens of hypothesis " + i);
            }
            for (BleuState.Smoothing sm : BleuState.Smoothing.values()) {
                BleuState s = new BleuState(sm);
                for (int i = 0; i < hyps.size(); i++)
                    s.add(hyps.get(i), strings(c.get("references").get(i)));
                Map<String, Double> m = s.compute();
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
            cases++;
        }
        assertEquals(7, cases);
    }

    @Test
    void mergedShardsGiveTheCorpusScore() throws IOException {
        JsonNode c = references().get("punctuation_numbers");
        List<String> hyps = strings(c.get("hypotheses"));
        BleuState a = new BleuState();
        BleuState b = new BleuState();
        for (int i = 0; i < hyps.size(); i++)
            (i == 0 ? a : b).add(hyps.get(i), strings(c.get("references").get(i)));
        assertEquals(c.get("exp").get("bleu").asDouble(), a.merge(b).compute().get("bleu"), 1e-9);
        assertThrows(IllegalArgumentException.class, () -> a.merge(new BleuState(BleuState.Smoothing.NONE)));
    }
}
