package io.sparkformers.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkformers.train.DataCollatorWithPadding.LabelKind;
import io.sparkformers.train.NonFiniteLossException;
import io.sparkformers.train.TextDataset;
import io.sparkformers.train.TinyBert;
import io.sparkformers.train.Trainer;
import io.sparkformers.train.TrainingArguments;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two replicas where one row's label is NaN: only the rank that draws the row sees a NaN loss, yet both stop at the
 * same step with {@link NonFiniteLossException} (the check reads the summed loss), and neither waits on the other.
 */
class NonFiniteLossReplicasTest {

    @Test
    void everyReplicaStopsAtTheSameStepWhenOneRankSeesANanLoss(@TempDir Path tmp) throws Exception {
        Path tiny = TinyBert.create(tmp.resolve("tiny"), false);
        List<String> texts = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            texts.add("row " + i + " was " + (i % 2 == 0 ? "good" : "bad"));
            labels.add(i == 5 ? "NaN" : String.valueOf(i % 2));
        }
        TextDataset rows = TextDataset.of("regression rows", texts, null, labels);
        List<Collective> ring = Rings.form(2);
        try {
            List<Throwable> outcomes = Rings.onAllRanks(2, rank -> {
                TrainingArguments a = TrainingArguments.builder(
                                tmp.resolve("out-" + rank).toString())
                        .numTrainEpochs(2)
                        .perDeviceTrainBatchSize(1)
                        .saveSteps(1)
                        .build();
                try {
                    Trainer.builder(a, tiny)
                            .labelKind(LabelKind.REGRESSION)
                            .progress(false)
                            .dataParallel(new CollectiveDataParallel(ring.get(rank)))
                            .build()
                            .train(Trainer.Shard.all(rows), null);
                    return null;
                } catch (Exception e) {
                    return e;
                }
            });
            NonFiniteLossException r0 = assertInstanceOf(NonFiniteLossException.class, outcomes.get(0));
            NonFiniteLossException r1 = assertInstanceOf(NonFiniteLossException.class, outcomes.get(1));
            assertEquals(r0.step(), r1.step(), r0.getMessage() + " | " + r1.getMessage());
            assertTrue(r0.step() <= 4, "the NaN row is in the first epoch: " + r0.getMessage());
            assertTrue(r1.getMessage().contains("the loss is NaN"), r1.getMessage());
            assertTrue(r1.getMessage().contains("rank 0's checkpoints stay loadable"), r1.getMessage());
        } finally {
            Rings.closeAll(ring);
        }
    }
}
