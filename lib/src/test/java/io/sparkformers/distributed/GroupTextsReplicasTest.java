package io.sparkformers.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.Json;
import io.sparkformers.safetensors.SafetensorsCheckpoint;
import io.sparkformers.safetensors.Tensor;
import io.sparkformers.train.RealText;
import io.sparkformers.train.TextDataset;
import io.sparkformers.train.Trainer;
import io.sparkformers.train.TrainingArguments;
import io.sparkformers.train.TrainingTask;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * group_texts with 2 replicas (causal LM on gpt2-tiny): each replica packs its own rows into blocks and the blocks are
 * shared, so 2 workers × batch 2 train exactly as 1 worker × batch 2 × 2 accumulation steps on the same blocks
 * (max |diff| of every weight ≤ 1e-5) when each shard's tokens fill whole blocks; when they do not, each shard drops
 * its own remainder, where HF's one packing over all rows drops one remainder overall.
 */
class GroupTextsReplicasTest {
    private static final Path GPT2 = Path.of("src/test/resources/generation/gpt2-tiny");
    private static final int BLOCK = 16;

    @Test
    void twoReplicasPackTheirOwnShardsAndTrainAsOneProcess(@TempDir Path tmp) throws Exception {
        List<String> paragraphs = RealText.paragraphs();
        // 16 copies of one text hold 16 × n tokens: whole blocks, so per-shard packing = packing all rows at once
        List<String> a = new ArrayList<>(Collections.nCopies(BLOCK, paragraphs.get(1)));
        List<String> b = new ArrayList<>(Collections.nCopies(BLOCK, paragraphs.get(2)));
        List<String> all = new ArrayList<>(a);
        all.addAll(b);

        Trainer.TrainOutput one = Trainer.builder(args(tmp.resolve("one"), 2), task())
                .progress(false)
                .build()
                .train(TextDataset.of("both shards", all, null, null), null);
        List<Trainer.TrainOutput> two = replicas(tmp.resolve("two"), a, b);

        assertEquals(one.globalStep(), two.get(0).globalStep());
        assertEquals(one.trainingLoss(), two.get(0).trainingLoss(), 1e-5, "mean training loss");
        double worst = maxAbsDiff(one.outputDir(), two.get(0).outputDir());
        System.out.printf("group_texts, 2 replicas x 2 vs 1 x 2 x 2: max |diff| of the weights = %.3g%n", worst);
        assertTrue(worst <= 1e-5, "max |diff| = " + worst);
        assertEquals(examples(one.outputDir()), examples(two.get(0).outputDir()));

        // shards whose tokens do not fill whole blocks: each drops its own remainder (here 2 × t tokens, 8 < t < 16),
        // where packing all rows at once keeps one more block from the two remainders together
        String tail = "Grant of Copyright License, subject to";
        long t = tokens(List.of(tail));
        assertTrue(t > BLOCK / 2 && t < BLOCK, t + " tail tokens");
        List<String> aTail = new ArrayList<>(a);
        aTail.add(tail);
        List<String> bTail = new ArrayList<>(b);
        bTail.add(tail);
        List<String> allTail = new ArrayList<>(aTail);
        allTail.addAll(bTail);
        long perShard =
                examples(replicas(tmp.resolve("tail"), aTail, bTail).get(0).outputDir());
        long global = examples(Trainer.builder(args(tmp.resolve("one-tail"), 2), task())
                .progress(false)
                .build()
                .train(TextDataset.of("both shards with tails", allTail, null, null), null)
                .outputDir());
        assertEquals(examples(one.outputDir()), perShard, "each shard's tail is its remainder, dropped");
        assertEquals(perShard + 1, global, "one packing over all rows makes a block of the two tails");
    }

    private static List<Trainer.TrainOutput> replicas(Path out, List<String> a, List<String> b) throws Exception {
        List<Collective> ring = Rings.form(2);
        try {
            return Rings.onAllRanks(2, rank -> {
                List<String> mine = rank == 0 ? a : b;
                int[] idx = new int[mine.size()];
                for (int i = 0; i < idx.length; i++) idx[i] = (rank == 0 ? 0 : a.size()) + i;
                return Trainer.builder(args(out.resolve("r" + rank), 1), task())
                        .progress(false)
                        .dataParallel(new CollectiveDataParallel(ring.get(rank)))
                        .build()
                        .train(
                                new Trainer.Shard(
                                        TextDataset.of("shard " + rank, mine, null, null), idx, a.size() + b.size()),
                                null);
            });
        } finally {
            Rings.closeAll(ring);
        }
    }

    private static TrainingTask task() {
        return TrainingTask.causalLanguageModeling(GPT2, BLOCK, true);
    }

    private static TrainingArguments args(Path out, int accumulation) {
        return TrainingArguments.builder(out.toString())
                .perDeviceTrainBatchSize(2)
                .gradientAccumulationSteps(accumulation)
                .learningRate(1e-3)
                .maxSteps(3)
                .evalStrategy("no")
                .saveStrategy("no")
                .seed(7)
                .build();
    }

    /** The training examples (blocks) the fit's provenance.json reports. */
    private static long examples(Path dir) throws Exception {
        JsonNode p = Json.MAPPER.readTree(dir.resolve("provenance.json").toFile());
        return p.path("data").path("train").path("examples").asLong();
    }

    private static long tokens(List<String> texts) throws Exception {
        try (var tok = ai.djl.huggingface.tokenizers.HuggingFaceTokenizer.newInstance(GPT2.resolve("tokenizer.json"))) {
            long n = 0;
            for (String t : texts) n += tok.encode(t).getIds().length;
            return n;
        }
    }

    private static double maxAbsDiff(Path x, Path y) throws Exception {
        try (SafetensorsCheckpoint a = SafetensorsCheckpoint.open(x.resolve("model.safetensors"));
                SafetensorsCheckpoint b = SafetensorsCheckpoint.open(y.resolve("model.safetensors"))) {
            Map<String, Tensor> ta = a.readAll();
            Map<String, Tensor> tb = b.readAll();
            assertEquals(ta.keySet(), tb.keySet());
            double worst = 0;
            for (String k : ta.keySet()) {
                float[] u = ta.get(k).toFloatArray();
                float[] v = tb.get(k).toFloatArray();
                for (int i = 0; i < u.length; i++) worst = Math.max(worst, Math.abs(u[i] - v[i]));
            }
            return worst;
        }
    }
}
