package io.sparkformers.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkformers.safetensors.DType;
import io.sparkformers.safetensors.SafetensorsCheckpoint;
import io.sparkformers.safetensors.Tensor;
import io.sparkformers.train.TextDataset;
import io.sparkformers.train.TinyBert;
import io.sparkformers.train.Trainer;
import io.sparkformers.train.TrainingArguments;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two replicas of a tiny BERT (word-embedding table included), clipping active: with the optimizer step sharded over
 * the ranks (the default) rank 0's checkpoint — weights and the gathered AdamW state — equals that of the same run
 * with every rank updating everything ({@code sparkformers.shardedOptimizerStep=false}), to float32 rounding of the
 * clipping coefficient (the global norm is summed from shares in another order).
 */
class ShardedUpdateReplicasTest {

    @Test
    void aShardedStepSavesTheWeightsAndOptimizerStateOfAnUnshardedOne(@TempDir Path tmp) throws Exception {
        Path tiny = TinyBert.create(tmp.resolve("tiny"), false);
        List<String> texts = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            texts.add("row " + i + " was " + (i % 2 == 0 ? "good" : "bad") + " and " + "long ".repeat(i % 4));
            labels.add(String.valueOf(i % 2));
        }
        TextDataset rows = TextDataset.of("rows", texts, null, labels);
        List<Map<String, Object>> sharded = train(tiny, rows, tmp.resolve("sharded"));
        List<Map<String, Object>> whole;
        System.setProperty("sparkformers.shardedOptimizerStep", "false");
        try {
            whole = train(tiny, rows, tmp.resolve("whole"));
        } finally {
            System.clearProperty("sparkformers.shardedOptimizerStep");
        }
        for (int r = 0; r < 2; r++) {
            assertEquals(2, ((Number) sharded.get(r).get("train_optimizer_shards")).intValue());
            assertEquals(1, ((Number) whole.get(r).get("train_optimizer_shards")).intValue());
        }
        for (String file : List.of("model.safetensors", "optimizer.safetensors")) {
            for (int step : new int[] {2, 3}) {
                Map<String, Tensor> a = read(tmp.resolve("sharded/out-0/checkpoint-" + step + "/" + file));
                Map<String, Tensor> b = read(tmp.resolve("whole/out-0/checkpoint-" + step + "/" + file));
                assertEquals(b.keySet(), a.keySet(), file);
                double diff = 0;
                for (String k : a.keySet()) {
                    if (a.get(k).dtype() == DType.I64) { // step counts
                        assertEquals(b.get(k), a.get(k), k);
                        continue;
                    }
                    float[] x = a.get(k).toFloatArray();
                    float[] y = b.get(k).toFloatArray();
                    for (int i = 0; i < x.length; i++) {
                        diff = Math.max(diff, Math.abs(x[i] - y[i]) / (1e-3 + Math.abs(y[i])));
                    }
                }
                assertTrue(diff <= 1e-4, file + " at step " + step + ": max relative difference " + diff);
            }
        }
    }

    /** Two ranks, 3 steps of 2 × 2 rows, a checkpoint after steps 2 and 3; each rank's train metrics. */
    private static List<Map<String, Object>> train(Path model, TextDataset rows, Path out) throws Exception {
        List<Collective> ring = Rings.form(2);
        try {
            return Rings.onAllRanks(2, rank -> {
                TrainingArguments a = TrainingArguments.builder(
                                out.resolve("out-" + rank).toString())
                        .maxSteps(3)
                        .perDeviceTrainBatchSize(2)
                        .learningRate(5e-3)
                        .set("max_grad_norm", 0.05) // clipping active
                        .saveSteps(2)
                        .seed(5)
                        .build();
                return Trainer.builder(a, model)
                        .labels(List.of("0", "1"))
                        .progress(false)
                        .checkConsistencyEverySteps(1) // the replicas' weights bit-identical after every step
                        .dataParallel(new CollectiveDataParallel(ring.get(rank)))
                        .build()
                        .train(Trainer.Shard.all(rows), null)
                        .trainMetrics();
            });
        } finally {
            Rings.closeAll(ring);
        }
    }

    private static Map<String, Tensor> read(Path file) throws IOException {
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(file)) {
            return c.readAll();
        }
    }
}
