package io.sparkformers.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.Json;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * ROUGE against hand-computed cases, each worked out in the comment beside it from rouge_score's definitions, and
 * against resources/metrics/rouge_references.json (make_rouge_references.py): NLTK's Porter stems of every word of
 * the license texts, and ROUGE-1/2/L/Lsum with and without stemming (rouge_score itself is not on the local package
 * indexes: the script transcribes its scoring over NLTK's stemmer).
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

    static JsonNode references() throws Exception {
        return Json.readObject(Path.of("src/test/resources/metrics/rouge_references.json"));
    }

    @Test
    void porterStemmerEqualsNltksOnEveryLicenseWordAndEachAmendment() throws Exception {
        JsonNode porter = references().get("porter");
        assertTrue(porter.size() > 2000, "the reference word list");
        List<String> wrong = new ArrayList<>();
        for (var e : porter.properties()) {
            String ours = PorterStemmer.stem(e.getKey());
            if (!ours.equals(e.getValue().asText())) wrong.add(e.getKey() + " -> " + ours + ", nltk " + e.getValue());
        }
        assertEquals(List.of(), wrong, wrong.size() + " of " + porter.size() + " words stem differently");
    }

    @Test
    void scoresWithAndWithoutStemmingEqualTheReference() throws Exception {
        for (JsonNode c : references().get("rouge")) {
            for (boolean stem : new boolean[] {true, false}) {
                Map<String, Double> m = new RougeState(stem)
                        .add(c.get("prediction").asText(), c.get("reference").asText())
                        .compute();
                JsonNode want = c.get(stem ? "stemmed" : "plain");
                for (String k : List.of("rouge1", "rouge2", "rougeL", "rougeLsum")) {
                    assertEquals(want.get(k).asDouble(), m.get(k), 1e-12, k + " stem=" + stem + " of " + c);
                }
            }
        }
    }

    @Test
    void rougeLsumIsTheSummaryLevelUnionLcsOfTheRougePaper() {
        // Lin (2004) 3.2: r = w1 w2 w3 w4 w5; c1 = w1 w2 w6 w7 w8, c2 = w1 w3 w8 w9 w5 (one sentence each);
        // LCS(r, c1) = w1 w2, LCS(r, c2) = w1 w3 w5, union = w1 w2 w3 w5: 4 hits; R = 4/5, P = 4/10, F = 8/15
        Map<String, Double> m = new RougeState()
                .add("w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5", "w1 w2 w3 w4 w5")
                .compute();
        assertEquals(8.0 / 15, m.get("rougeLsum"), EPS);
        // one line each: rougeLsum is rougeL
        RougeState one = new RougeState().add("a b c d", "d c b a x");
        assertEquals(one.compute().get("rougeL"), one.compute().get("rougeLsum"), EPS);
        // a hit counts once per token occurrence on both sides: pred "the the the / the", ref "the cat / cat the":
        // union LCS per ref sentence [the], [the]: 2 hits (ref has 2 "the"); R = 2/4, P = 2/4, F = 1/2
        assertEquals(
                0.5,
                new RougeState()
                        .add("the the the\nthe", "the cat\ncat the")
                        .compute()
                        .get("rougeLsum"),
                EPS);
    }

    @Test
    void stemmingMatchesInflectionsAndStatesMergeOnlyAlike() {
        // "cats were sitting on the mats" vs "the cat sat on the mat": stems cat, sit, mat; "sat" is not "sit"
        // rouge1 stemmed: pred [the cat were sit on the mat] (7), ref [the cat sat on the mat] (6): shared
        // the x2, cat, on, mat = 5 -> F = 2 * 5/7 * 5/6 / (5/7 + 5/6) = 10/13
        Map<String, Double> m = new RougeState(true)
                .add("The cats were sitting on the mats.", "the cat sat on the mat")
                .compute();
        assertEquals(10.0 / 13, m.get("rouge1"), EPS);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> new RougeState(true).merge(new RougeState(false)));
        assertTrue(e.getMessage().contains("with and without stemming"), e.getMessage());
    }
}
