package io.sparkformers.generation;

import static io.sparkformers.generation.GenerationReferences.floats;
import static io.sparkformers.generation.GenerationReferences.longRows;
import static io.sparkformers.generation.GenerationReferences.maxRelDiff;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.nn.CausalLanguageModel;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * generate() on the Llama family against transformers 4.57.6 (llama/generation.json, made by
 * lib/src/test/python/make_llama_generation_references.py from the seeded checkpoints of make_llama_references.py):
 * for llama, llama3 rope with tied head, linear rope in shards, dynamic rope past max_position_embeddings, mistral's
 * sliding window and qwen2's biases, greedy and beam-search tokens identical on single and left-padded batched
 * prompts (with processors, several return sequences, early stopping), beam scores within 1e-4; and sampling's
 * first-token frequencies over 1,024 draws per prompt within 5 standard deviations of HF's processed distribution,
 * never a token HF's top-k / top-p filters removed; beam sampling's token counts at each new position within 5 sd of
 * HF's over 1,024 rows.
 */
class LlamaGenerationParityTest {

    private static final String[] GREEDY_AND_BEAM = {"greedy", "greedy_batch", "greedy_processors", "beam", "beam_early"
    };

    private static JsonNode refs;

    static synchronized JsonNode references() {
        if (refs == null) {
            try {
                refs = new ObjectMapper().readTree(dir("generation.json").toFile());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return refs;
    }

    static Path dir(String name) {
        try {
            return Path.of(LlamaGenerationParityTest.class
                    .getResource("/llama/" + name)
                    .toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "llama3_tied", "linear_sharded", "dynamic", "mistral_window", "qwen2_bias"})
    void greedyAndBeamSearchMatchTransformers(String checkpoint) throws Exception {
        System.setProperty("ai.djl.offline", "true");
        try (HfModel model = HfModel.fromPretrained(dir(checkpoint), Task.CAUSAL_LM)) {
            CausalLanguageModel lm = (CausalLanguageModel) model.block();
            for (JsonNode ref : references().get(checkpoint).get("generate")) {
                String name = checkpoint + "/" + ref.get("name").asText();
                GenerationConfig config = GenerationConfig.forCheckpoint(dir(checkpoint), ref.get("options"));
                GenerationOutput out = Generator.generate(
                        (ids, mask) -> new CausalLmScorer(lm, ids, mask, Device.cpu()),
                        longRows(ref.get("input_ids")),
                        longRows(ref.get("attention_mask")),
                        config,
                        null);
                long[][] expected = longRows(ref.get("sequences"));
                assertEquals(expected.length, out.sequences().length, name + ": rows");
                for (int i = 0; i < expected.length; i++) {
                    assertArrayEquals(expected[i], out.sequences()[i], name + ": row " + i);
                }
                if (ref.has("sequences_scores")) {
                    double d = maxRelDiff(out.sequencesScores(), floats(ref.get("sequences_scores")));
                    assertTrue(d < 1e-4, name + ": sequences_scores max rel diff " + d);
                }
            }
        }
    }

    @Test
    void beamSamplingDrawsAsTransformersDoes() throws Exception {
        System.setProperty("ai.djl.offline", "true");
        JsonNode ref = references().get("llama").get("beam_sampling");
        long[] prompt = GenerationReferences.longs(ref.get("input_ids").get(0));
        long[] ones = GenerationReferences.longs(ref.get("attention_mask").get(0));
        int perRound = 256;
        int draws = ref.get("draws").asInt();
        int vocab = ref.get("counts").get(0).size();
        long[][] ids = new long[perRound][];
        long[][] mask = new long[perRound][];
        java.util.Arrays.fill(ids, prompt);
        java.util.Arrays.fill(mask, ones);
        int[][] counts = new int[2][vocab];
        try (HfModel model = HfModel.fromPretrained(dir("llama"), Task.CAUSAL_LM)) {
            CausalLanguageModel lm = (CausalLanguageModel) model.block();
            for (int round = 0; round < draws / perRound; round++) {
                ObjectNode options = ((ObjectNode) ref.get("options").deepCopy()).put("seed", 31 + round);
                GenerationConfig config = GenerationConfig.forCheckpoint(dir("llama"), options);
                GenerationOutput out = Generator.generate(
                        (i, m) -> new CausalLmScorer(lm, i, m, Device.cpu()), ids, mask, config, null);
                assertEquals(perRound, out.sequences().length);
                for (int row = 0; row < perRound; row++) {
                    long[] made = out.newTokens(row);
                    for (int pos = 0; pos < 2; pos++) counts[pos][(int) made[pos]]++;
                }
            }
        }
        for (int pos = 0; pos < 2; pos++) {
            int distinct = 0;
            for (int t = 0; t < vocab; t++) {
                int hf = ref.get("counts").get(pos).get(t).asInt();
                int ours = counts[pos][t];
                if (ours > 0) distinct++;
                // two independent counts of one binomial: var(ours - hf) <= ours + hf
                assertTrue(
                        Math.abs(ours - hf) <= 5 * Math.sqrt(ours + hf) + 3,
                        "new token " + pos + ", id " + t + ": ours " + ours + " vs transformers " + hf + " in "
                                + draws);
            }
            assertTrue(distinct > 10, "new token " + pos + ": only " + distinct + " ids drawn; not sampling");
        }
    }

    /** The sampling path does not depend on the architecture: one checkpoint (references hold all six). */
    @Test
    void samplingDrawsFromTransformersDistribution() throws Exception {
        System.setProperty("ai.djl.offline", "true");
        String checkpoint = "qwen2_bias";
        JsonNode ref = references().get(checkpoint).get("sampling");
        long[][] ids = longRows(ref.get("input_ids"));
        long[][] mask = longRows(ref.get("attention_mask"));
        int perRound = GenerationConfig.MAX_SEQUENCES_PER_PROMPT;
        int rounds = 4;
        int n = perRound * rounds;
        int vocab = ref.get("first_token_probs").get(0).size();
        int[][] counts = new int[ids.length][vocab];
        try (HfModel model = HfModel.fromPretrained(dir(checkpoint), Task.CAUSAL_LM)) {
            CausalLanguageModel lm = (CausalLanguageModel) model.block();
            for (int round = 0; round < rounds; round++) {
                ObjectNode options = ((ObjectNode) ref.get("options").deepCopy())
                        .put("num_return_sequences", perRound)
                        .put("seed", 17 + round);
                GenerationConfig config = GenerationConfig.forCheckpoint(dir(checkpoint), options);
                GenerationOutput out = Generator.generate(
                        (i, m) -> new CausalLmScorer(lm, i, m, Device.cpu()), ids, mask, config, null);
                for (int row = 0; row < out.sequences().length; row++) {
                    counts[row / perRound][(int) out.newTokens(row)[0]]++;
                }
            }
        }
        for (int p = 0; p < ids.length; p++) {
            float[] probs = floats(ref.get("first_token_probs").get(p));
            int support = 0;
            for (int t = 0; t < vocab; t++) {
                double expected = n * (double) probs[t];
                if (probs[t] == 0) {
                    assertEquals(
                            0,
                            counts[p][t],
                            checkpoint + ": prompt " + p + " drew token " + t + " that HF's top-k / top-p removed");
                    continue;
                }
                support++;
                double sd = Math.sqrt(n * (double) probs[t] * (1 - probs[t]));
                assertTrue(
                        Math.abs(counts[p][t] - expected) <= 5 * sd + 1,
                        checkpoint + ": prompt " + p + " token " + t + " drawn " + counts[p][t] + " times in " + n
                                + ", HF's probability " + probs[t] + " expects " + expected + " ± " + sd);
            }
            assertTrue(support > 1, checkpoint + ": prompt " + p + " has a single candidate; the check is empty");
        }
    }
}
