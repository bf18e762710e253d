package io.sparkformers.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.sparkformers.metrics.SeqevalState.Chunk;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SeqevalStateTest {
    private static final double EPS = 1e-12;

    private static final List<List<String>> README_TRUE =
            List.of(List.of("O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"), List.of("B-PER", "I-PER", "O"));
    private static final List<List<String>> README_PRED =
            List.of(List.of("O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"), List.of("B-PER", "I-PER", "O"));

    @Test
    void matchesSeqevalReadmeAndHfEvaluateExample() {
        SeqevalState s = new SeqevalState();
        for (int i = 0; i < 2; i++) s.add(README_TRUE.get(i), README_PRED.get(i));
        Map<String, Double> m = s.compute();
        assertEquals(0.5, m.get("overall_precision"), EPS);
        assertEquals(0.5, m.get("overall_recall"), EPS);
        assertEquals(0.5, m.get("overall_f1"), EPS);
        assertEquals(0.8, m.get("overall_accuracy"), EPS);
        assertEquals(0.0, m.get("MISC_f1"));
        assertEquals(1.0, m.get("MISC_number"));
        assertEquals(1.0, m.get("PER_precision"));
        assertEquals(1.0, m.get("PER_recall"));
        assertEquals(1.0, m.get("PER_f1"));
    }

    @Test
    void extractsChunksLikeSeqevalGetEntities() {
        // seqeval docstring: get_entities(['B-PER', 'I-PER', 'O', 'B-LOC']) == [('PER', 0, 1), ('LOC', 3, 3)]
        assertEquals(
                List.of(new Chunk("PER", 0, 1), new Chunk("LOC", 3, 3)),
                SeqevalState.chunks(List.of("B-PER", "I-PER", "O", "B-LOC")));
    }

    @Test
    void insideTagAfterOutsideOrAnotherTypeStartsANewChunk() {
        assertEquals(
                List.of(new Chunk("PER", 1, 2), new Chunk("LOC", 3, 3), new Chunk("ORG", 4, 4)),
                SeqevalState.chunks(List.of("O", "I-PER", "I-PER", "B-LOC", "I-ORG")));
        assertEquals(
                List.of(new Chunk("PER", 0, 0), new Chunk("LOC", 1, 1)),
                SeqevalState.chunks(List.of("B-PER", "I-LOC")));
    }

    @Test
    void beginTagEndsTheRunningChunkOfTheSameType() {
        assertEquals(
                List.of(new Chunk("PER", 0, 1), new Chunk("PER", 2, 2)),
                SeqevalState.chunks(List.of("B-PER", "I-PER", "B-PER")));
    }

    @Test
    void ignoredLabelIdsAreDroppedBeforeScoring() {
        List<String> id2label = List.of("O", "B-PER", "I-PER");
        // position 0 and 3 are special tokens (-100) whose predictions must not count
        SeqevalState s = new SeqevalState().addIds(new int[] {-100, 1, 2, -100}, new int[] {1, 1, 2, 2}, id2label);
        Map<String, Double> m = s.compute();
        assertEquals(1.0, m.get("overall_f1"));
        assertEquals(1.0, m.get("overall_accuracy"));
    }

    @Test
    void mergingSentencesSplitAcrossWorkersEqualsOneState() {
        List<List<String>> truth = List.of(
                List.of("B-PER", "I-PER", "O"),
                List.of("O", "B-LOC"),
                List.of("B-ORG", "O", "B-PER"),
                List.of("I-LOC", "I-LOC"));
        List<List<String>> pred = List.of(
                List.of("B-PER", "O", "O"),
                List.of("O", "B-LOC"),
                List.of("B-ORG", "B-ORG", "B-LOC"),
                List.of("B-LOC", "I-LOC"));
        SeqevalState all = new SeqevalState();
        SeqevalState a = new SeqevalState();
        SeqevalState b = new SeqevalState();
        for (int i = 0; i < truth.size(); i++) {
            all.add(truth.get(i), pred.get(i));
            (i % 2 == 0 ? a : b).add(truth.get(i), pred.get(i));
        }
        assertEquals(all, a.merge(b));
        assertEquals(all.compute(), b.merge(a).compute());
        assertFalse(all.compute().isEmpty());
    }
}
