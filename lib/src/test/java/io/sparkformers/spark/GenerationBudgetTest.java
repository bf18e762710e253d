package io.sparkformers.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.generation.GenerationConfig;
import io.sparkformers.hub.Json;
import io.sparkformers.spark.TokenBudgetBatcher.Batch;
import io.sparkformers.spark.TokenBudgetBatcher.Encoded;
import io.sparkformers.spark.TokenBudgetBatcher.Scored;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A decoder's batches are sized by what their KV cache will hold, not by their prompts: (longest prompt +
 * max_new_tokens, or max_length) × the sequences each prompt expands to, per row, within maxTokensPerBatch.
 */
class GenerationBudgetTest {

    private static GenerationConfig config(String json) throws Exception {
        return GenerationConfig.fromJson((ObjectNode) Json.MAPPER.readTree(json));
    }

    @Test
    void aRowCountsPromptPlusNewTokensTimesTheSequencesItExpandsTo() throws Exception {
        assertEquals(
                (10 + 8) * 3,
                GenerationCodec.decoderRowTokens(
                        config("{\"max_new_tokens\":8,\"num_beams\":3,\"num_return_sequences\":2}"), 10));
        assertEquals(
                (10 + 8) * 4,
                GenerationCodec.decoderRowTokens(
                        config("{\"max_new_tokens\":8,\"do_sample\":true,\"num_return_sequences\":4}"), 10));
        assertEquals(20, GenerationCodec.decoderRowTokens(config("{\"max_length\":20}"), 10), "max_length: total");
        assertEquals(1 + 8, GenerationCodec.decoderRowTokens(config("{\"max_new_tokens\":8}"), 1));
    }

    @Test
    void batchesNeverExceedTheKvCacheBudgetAndRowsKeepTheirResults() throws Exception {
        GenerationConfig c = config("{\"max_new_tokens\":16,\"num_beams\":4,\"num_return_sequences\":2}");
        int budget = 1000;
        SplittableRandom rng = new SplittableRandom(3);
        int[] lengths = new int[400];
        for (int i = 0; i < lengths.length; i++) lengths[i] = 1 + rng.nextInt(rng.nextBoolean() ? 8 : 120);
        List<Integer> rows = new ArrayList<>();
        for (int i = 0; i < lengths.length; i++) rows.add(i);
        List<Batch> seen = new ArrayList<>();
        TokenBudgetBatcher b = new TokenBudgetBatcher(
                64, budget, 128, true, 0, longest -> GenerationCodec.decoderRowTokens(c, longest));
        List<Scored<Integer>> out = new ArrayList<>();
        b.run(rows.iterator(), i -> row(i, lengths[i]), batch -> {
                    seen.add(batch);
                    Object[] r = new Object[batch.size()];
                    for (int k = 0; k < r.length; k++) r[k] = batch.ids(k)[0];
                    return r;
                })
                .forEachRemaining(out::add);
        assertEquals(lengths.length, out.size());
        for (int i = 0; i < out.size(); i++) assertEquals((long) i, out.get(i).value(), "row " + i);
        int alone = 0;
        for (Batch batch : seen) {
            long kv = (long) batch.size() * (batch.seqLength() + 16) * 4;
            if (batch.size() == 1) {
                alone++;
                continue; // a row over the budget on its own still runs, alone
            }
            assertTrue(
                    kv <= budget,
                    batch.size() + " prompts of up to " + batch.seqLength() + " tokens hold " + kv
                            + " cache positions > " + budget);
        }
        // prompts alone would have fit 1000 / 120 = 8 rows of the longest; the cache allows 1000 / 544 = 1
        long longOnes =
                Arrays.stream(lengths).filter(l -> (l + 16) * 4 > budget / 2).count();
        assertTrue(alone >= longOnes, alone + " single-row batches for " + longOnes + " prompts past half the budget");
        assertTrue(seen.size() < lengths.length, "short prompts still share batches: " + seen.size() + " batches");
    }

    private static Encoded row(int i, int len) {
        long[] ids = new long[len];
        Arrays.fill(ids, i);
        long[] ones = new long[len];
        Arrays.fill(ones, 1);
        return new Encoded(ids, ones, new long[len], null);
    }
}
