package io.sparkformers.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code finetune --workers 2} for {@code task: summarization}: the config becomes a {@code Seq2SeqFineTuner} fitted
 * by two data-parallel replicas in the CLI's local Spark session, on lib's seeded tiny BART and (source, target) pairs
 * of license sentences; the report names both ranks and the generation metrics, and the output folder is a BART
 * checkpoint.
 */
class Seq2SeqFinetuneCliTest {
    @TempDir
    Path tmp;

    @Test
    void summarizationFinetunesOnTwoWorkersThroughTheEstimator() throws Exception {
        System.setProperty("ai.djl.offline", "true");
        StringBuilder train = new StringBuilder();
        for (String s : FinetuneCliFixtures.LICENSE_SENTENCES) {
            String[] w = s.split(" ");
            train.append(Json.MAPPER.createObjectNode().put("source", s).put("target", w[0] + " " + w[1] + " " + w[2]))
                    .append('\n');
        }
        Path data = tmp.resolve("pairs.jsonl");
        Files.writeString(data, train);
        Path out = tmp.resolve("out");
        Path config = FinetuneCliFixtures.yaml(
                tmp.resolve("s2s.yaml"),
                "model: " + FinetuneCliFixtures.BART.toAbsolutePath(),
                "task: summarization",
                "objective:",
                "  max_target_length: 8",
                "  predict_with_generate: true",
                "  generation_max_length: 6",
                "data:",
                "  train: " + data,
                "  eval: " + data,
                "  text_col: source",
                "  text_pair_col: target",
                "  max_length: 32",
                "training:",
                "  output_dir: " + out,
                "  overwrite_output_dir: true",
                "  max_steps: 2",
                "  per_device_train_batch_size: 2",
                "  per_device_eval_batch_size: 2",
                "  learning_rate: 1.0e-3",
                "  eval_strategy: steps",
                "  eval_steps: 2",
                "  save_strategy: 'no'",
                "  logging_steps: 1");
        CliRun r = FinetuneCliFixtures.finetune(config, 2, "--json");
        assertEquals(0, r.exitCode(), r.err());
        String last = r.out().strip().lines().reduce((a, b) -> b).orElse("");
        JsonNode report = Json.MAPPER.readTree(last);
        assertEquals(2, report.get("workers").asInt(), last);
        assertEquals(2, report.get("ranks").size(), last);
        for (String k : new String[] {"eval_loss", "eval_rouge1", "eval_rougeLsum", "eval_bleu", "eval_gen_len"}) {
            assertTrue(report.get("eval").has(k), k + " in " + last);
        }
        JsonNode saved = Json.MAPPER.readTree(out.resolve("config.json").toFile());
        assertEquals(
                "BartForConditionalGeneration",
                saved.path("architectures").path(0).asText());
        assertTrue(Files.isRegularFile(out.resolve("model.safetensors")));
    }
}
