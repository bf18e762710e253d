package io.sparkformers.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntPredicate;
import java.util.function.Supplier;

/**
 * The committed sacrebleu reference cases of the {@link SacrebleuCounts} metrics (written by the scripts under
 * lib/src/test/python): each case holds {@code hypotheses}, one list of {@code references} per hypothesis, and the
 * scores sacrebleu gave; keys starting with {@code _} describe the file.
 */
final class SacrebleuCases {
    private SacrebleuCases() {}

    /** The cases of {@code resource} by name, in file order. */
    static Map<String, JsonNode> load(String resource) {
        try (InputStream in = SacrebleuCases.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("no test resource " + resource);
            Map<String, JsonNode> cases = new LinkedHashMap<>();
            new ObjectMapper().readTree(in).fields().forEachRemaining(e -> {
                if (!e.getKey().startsWith("_")) cases.put(e.getKey(), e.getValue());
            });
            return cases;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<String> strings(JsonNode n) {
        List<String> out = new ArrayList<>();
        n.forEach(x -> out.add(x.asText()));
        return out;
    }

    /** {@code state} with the case's texts whose index {@code take} accepts added, each against its references. */
    static <S extends SacrebleuCounts<S>> S fill(S state, JsonNode c, IntPredicate take) {
        List<String> hyps = strings(c.get("hypotheses"));
        for (int i = 0; i < hyps.size(); i++)
            if (take.test(i)) state.add(hyps.get(i), strings(c.get("references").get(i)));
        return state;
    }

    /** {@link #fill} with every text. */
    static <S extends SacrebleuCounts<S>> S fill(S state, JsonNode c) {
        return fill(state, c, i -> true);
    }

    /**
     * The case split after its first text into two states: merged either way they equal, and score as, one state of
     * all the texts. Returns the merged state.
     */
    static <S extends SacrebleuCounts<S>> S assertMergeIsTheCorpus(Supplier<S> empty, JsonNode c) {
        S whole = fill(empty.get(), c);
        S first = fill(empty.get(), c, i -> i == 0);
        S rest = fill(empty.get(), c, i -> i > 0);
        S merged = first.merge(rest);
        assertEquals(whole, merged);
        assertEquals(whole, rest.merge(first));
        assertEquals(whole.compute(), merged.compute());
        return merged;
    }
}
