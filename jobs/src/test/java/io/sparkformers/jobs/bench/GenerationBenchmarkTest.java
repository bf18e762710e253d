package io.sparkformers.jobs.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.generation.Seq2SeqScorer;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Seq2SeqLanguageModel;
import io.sparkformers.nn.Task;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The encoder-decoder path of {@code bench generation} on its tiny checkpoints, without the Python peer: the folders
 * it writes load in transformers and give the same logits as ours (references of
 * lib/src/test/python/make_generation_bench_references.py, transformers 4.57.6 on the folders this code writes), and
 * the throughput loop runs them at two batch sizes.
 */
class GenerationBenchmarkTest {

    @TempDir
    Path dir;

    @Test
    void encoderDecoderCheckpointsMatchTransformersLogits() throws Exception {
        JsonNode ref;
        try (InputStream in = getClass().getResourceAsStream("generation_bench_seq2seq.json")) {
            ref = Json.MAPPER.readTree(in);
        }
        int batch = ref.get("batch").asInt();
        int prompt = ref.get("prompt").asInt();
        int newTokens = ref.get("new_tokens").asInt();
        for (String name : List.of("bart-tiny-random", "t5-tiny-random")) {
            var config = GenerationBenchmark.configs().get(name);
            assertTrue(GenerationBenchmark.encoderDecoder(name), name);
            Path folder = GenerationBenchmark.ensureCheckpoint(dir.resolve(name), config);
            JsonNode expected = ref.get("models").get(name);
            try (HfModel m = HfModel.fromPretrained(HfCheckpoint.open(folder), Task.SEQ2SEQ_LM, Device.cpu())) {
                Seq2SeqLanguageModel lm = (Seq2SeqLanguageModel) m.block();
                long[][] ids = GenerationBenchmark.promptIds(batch, prompt, lm.vocabSize());
                long[][] mask = new long[batch][prompt];
                for (long[] r : mask) Arrays.fill(r, 1L);
                long start = config.get("decoder_start_token_id").asLong();
                long[][] seqs = new long[batch][newTokens + 1];
                for (long[] s : seqs) s[0] = start;
                long[][][] decoderPrompt = Seq2SeqScorer.decoderPrompt(batch, start);
                try (Seq2SeqScorer scorer = new Seq2SeqScorer(lm, decoderPrompt[0], ids, mask, Device.cpu())) {
                    long[] next = null;
                    for (int step = 0; step < newTokens; step++) {
                        float[][] logits = scorer.next(next);
                        next = new long[batch];
                        for (int row = 0; row < batch; row++) {
                            JsonNode want =
                                    expected.get("logits_every_7th").get(step).get(row);
                            for (int k = 0; k < want.size(); k++) {
                                assertEquals(
                                        want.get(k).asDouble(),
                                        logits[row][7 * k],
                                        1e-4,
                                        name + " step " + step + " row " + row + " vocab " + 7 * k);
                            }
                            int best = 0;
                            for (int v = 1; v < lm.vocabSize(); v++) if (logits[row][v] > logits[row][best]) best = v;
                            next[row] = best;
                            seqs[row][step + 1] = best;
                        }
                    }
                }
                for (int row = 0; row < batch; row++) {
                    long[] want =
                            Json.MAPPER.convertValue(expected.get("sequences").get(row), long[].class);
                    assertArrayEquals(want, seqs[row], name + " row " + row);
                }
            }
        }
    }

    @Test
    void throughputLoopRunsEncoderDecodersWithoutThePeer() throws Exception {
        var rows = GenerationBenchmark.run(
                dir, List.of("bart-tiny-random", "t5-tiny-random"), new int[] {1, 3}, 12, 4, 1, 1, null);
        assertEquals(4, rows.size());
        for (var r : rows) {
            assertTrue(r.oursSeconds() > 0 && Double.isFinite(r.oursTokensPerSecond()), r.toString());
            assertEquals(r.batch() * 4 / r.oursSeconds(), r.oursTokensPerSecond(), 1e-9);
            assertTrue(Double.isNaN(r.ratio()), "no peer, no ratio: " + r);
        }
        assertEquals(
                List.of(1, 3, 1, 3),
                rows.stream().map(GenerationBenchmark.Row::batch).toList());
        assertFalse(GenerationBenchmark.encoderDecoder("gpt2-small-random"));
    }

    @Test
    void unknownModelIsNamed() {
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> GenerationBenchmark.run(dir, List.of("bart-huge"), new int[] {1}, 4, 2, 1, 1, null));
        assertTrue(
                e.getMessage().contains("'bart-huge'") && e.getMessage().contains("t5-small-random"), e.getMessage());
    }
}
