package io.sparkformers.generation;

import static io.sparkformers.generation.GenerationReferences.floats;
import static io.sparkformers.generation.GenerationReferences.longRows;
import static io.sparkformers.generation.GenerationReferences.maxRelDiff;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.nn.CausalLanguageModel;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * generate() against transformers 4.57.6 on the seeded tiny GPT-2: token ids identical for greedy and beam search
 * (left-padded batches, several eos, max_length, stop strings, processors), beam scores within 1e-4, and every
 * logits processor's output within 1e-4 of HF's on fixed inputs.
 */
class GenerationParityTest {

    private static HfModel model;
    private static HuggingFaceTokenizer tokenizer;

    @BeforeAll
    static void load() throws Exception {
        System.setProperty("ai.djl.offline", "true");
        model = HfModel.fromPretrained(GenerationReferences.gpt2Tiny(), Task.CAUSAL_LM);
        tokenizer = HuggingFaceTokenizer.builder()
                .optTokenizerPath(GenerationReferences.gpt2Tiny().resolve("tokenizer.json"))
                .optAddSpecialTokens(false)
                .build();
    }

    @AfterAll
    static void close() {
        model.close();
        tokenizer.close();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "greedy",
                "greedy_batch",
                "greedy_max_length",
                "greedy_several_eos",
                "greedy_processors",
                "greedy_stop_strings",
                "beam",
                "beam_early_stopping",
                "beam_never",
                "beam_no_eos_hit"
            })
    void generateMatchesTransformers(String name) throws Exception {
        JsonNode ref = GenerationReferences.namedCase("generate", name);
        GenerationConfig config = GenerationConfig.forCheckpoint(GenerationReferences.gpt2Tiny(), ref.get("options"));
        CausalLanguageModel lm = (CausalLanguageModel) model.block();
        GenerationOutput out = Generator.generate(
                (ids, mask) -> new CausalLmScorer(lm, ids, mask, Device.cpu()),
                longRows(ref.get("input_ids")),
                longRows(ref.get("attention_mask")),
                config,
                ids -> tokenizer.decode(ids, false));
        long[][] expected = longRows(ref.get("sequences"));
        assertEquals(expected.length, out.sequences().length, name + ": rows");
        for (int i = 0; i < expected.length; i++) {
            assertArrayEquals(expected[i], out.sequences()[i], name + ": row " + i);
            assertEquals(
                    ref.get("texts").get(i).asText(), tokenizer.decode(out.sequences()[i], true), name + ": text " + i);
        }
        if (ref.has("sequences_scores")) {
            double d = maxRelDiff(out.sequencesScores(), floats(ref.get("sequences_scores")));
            assertTrue(d < 1e-4, name + ": sequences_scores max rel diff " + d);
        }
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "temperature",
                "top_k",
                "top_p",
                "min_p",
                "typical_p",
                "repetition_penalty",
                "no_repeat_ngram_size",
                "bad_words_ids",
                "min_new_tokens",
                "min_length",
                "beam_top_k",
                "all"
            })
    void logitsProcessorsMatchTransformersInHfOrder(String name) {
        JsonNode ref = GenerationReferences.namedCase("processors", name);
        var options = ((com.fasterxml.jackson.databind.node.ObjectNode)
                        ref.get("options").deepCopy())
                .put(
                        "eos_token_id",
                        GenerationReferences.references().get("eos_token_id").asInt());
        GenerationConfig config = GenerationConfig.fromJson(options);
        List<LogitsProcessor> processors =
                LogitsProcessors.of(config, ref.get("prompt_length").asInt());
        List<String> names = new ArrayList<>();
        ref.get("stages").forEach(s -> names.add(s.get("processor").asText()));
        assertEquals(names, processors.stream().map(LogitsProcessor::hfName).toList(), name + ": processors");
        long[][] ids = longRows(ref.get("input_ids"));
        float[] flat = floats(ref.get("scores"));
        int v = flat.length / ids.length;
        float[][] scores = new float[ids.length][];
        for (int r = 0; r < ids.length; r++) scores[r] = java.util.Arrays.copyOfRange(flat, r * v, (r + 1) * v);
        for (int i = 0; i < processors.size(); i++) {
            processors.get(i).process(ids, ids[0].length, scores);
            float[] got = new float[flat.length];
            for (int r = 0; r < ids.length; r++) System.arraycopy(scores[r], 0, got, r * v, v);
            double d = maxRelDiff(got, floats(ref.get("stages").get(i).get("scores")));
            assertTrue(d < 1e-4, name + " / " + names.get(i) + ": max rel diff " + d);
        }
    }
}
