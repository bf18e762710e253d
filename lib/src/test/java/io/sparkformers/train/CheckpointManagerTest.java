package io.sparkformers.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Rotation cases worked through transformers Trainer._sorted_checkpoints and _rotate_checkpoints by hand. */
class CheckpointManagerTest {
    @TempDir
    Path out;

    private CheckpointManager withCheckpoints(long... steps) throws IOException {
        CheckpointManager cm = new CheckpointManager(out);
        for (long s : steps) cm.save(s, dir -> Files.writeString(dir.resolve("model.safetensors"), "w" + s));
        return cm;
    }

    private List<String> names(CheckpointManager cm) throws IOException {
        return cm.checkpoints().stream().map(p -> p.getFileName().toString()).toList();
    }

    private String best(long step) {
        return out.resolve("checkpoint-" + step).toString();
    }

    @Test
    void listsCheckpointsNumericallyIgnoringTempFolders() throws IOException {
        CheckpointManager cm = withCheckpoints(100, 20, 3);
        Files.createDirectory(out.resolve("tmp-checkpoint-400"));
        Files.createDirectory(out.resolve("runs"));
        assertEquals(List.of("checkpoint-3", "checkpoint-20", "checkpoint-100"), names(cm));
        assertEquals(
                out.resolve("checkpoint-100"),
                CheckpointManager.latestCheckpoint(out).orElseThrow());
        assertEquals(List.of(out.resolve("tmp-checkpoint-400")), cm.removeIncomplete());
    }

    @Test
    void withoutBestTheOldestBeyondTheLimitGo() throws IOException {
        CheckpointManager cm = withCheckpoints(1, 2, 3, 4);
        cm.rotate(2, null);
        assertEquals(List.of("checkpoint-3", "checkpoint-4"), names(cm));
    }

    @Test
    void limitTwoWithBestOldestKeepsBestAndNewest() throws IOException {
        CheckpointManager cm = withCheckpoints(1, 2, 3);
        // sorted [1, 2, 3]; best 1 swaps up to the second-to-last place: [2, 1, 3]; the first one goes
        assertEquals(
                List.of(out.resolve("checkpoint-2"), out.resolve("checkpoint-1"), out.resolve("checkpoint-3")),
                cm.sortedCheckpoints(best(1)));
        assertEquals(List.of(out.resolve("checkpoint-2")), cm.rotate(2, best(1)));
        assertEquals(List.of("checkpoint-1", "checkpoint-3"), names(cm));
    }

    @Test
    void limitOneWithBestNotLastKeepsBoth() throws IOException {
        CheckpointManager cm = withCheckpoints(10, 20, 30);
        cm.rotate(1, best(20));
        assertEquals(List.of("checkpoint-20", "checkpoint-30"), names(cm));
    }

    @Test
    void limitOneWithBestLastKeepsOnlyIt() throws IOException {
        CheckpointManager cm = withCheckpoints(10, 20, 30);
        cm.rotate(1, best(30));
        assertEquals(List.of("checkpoint-30"), names(cm));
    }

    @Test
    void noLimitOrNonPositiveLimitKeepsEverything() throws IOException {
        CheckpointManager cm = withCheckpoints(1, 2, 3);
        assertTrue(cm.rotate(null, null).isEmpty());
        assertTrue(cm.rotate(0, null).isEmpty());
        assertEquals(3, names(cm).size());
    }

    @Test
    void greaterIsBetterFalsePicksTheLowestLossAndRotationKeepsIt() throws IOException {
        TrainingArguments args = TrainingArguments.builder(out.toString())
                .evalStrategy("steps")
                .evalSteps(10.0)
                .saveSteps(10)
                .loadBestModelAtEnd(true)
                .saveTotalLimit(2)
                .build();
        TrainerState state = new TrainerState();
        CheckpointManager cm = new CheckpointManager(out);
        double[] losses = {0.9, 0.4, 0.6, 0.5};
        for (int i = 0; i < losses.length; i++) {
            state.globalStep = 10L * (i + 1);
            state.updateBestMetric(args, Map.of("eval_loss", losses[i]), out);
            cm.save(state.globalStep, dir -> Files.writeString(dir.resolve("x"), "x"));
            cm.rotate(args.saveTotalLimit(), state.bestModelCheckpoint);
        }
        assertEquals(0.4, state.bestMetric);
        assertEquals(20L, state.bestGlobalStep);
        assertEquals(best(20), state.bestModelCheckpoint);
        assertEquals(List.of("checkpoint-20", "checkpoint-40"), names(cm));
    }

    @Test
    void missingBestMetricNamesTheAvailableOnes() {
        TrainingArguments args =
                TrainingArguments.builder("o").metricForBestModel("f1").build();
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> new TrainerState().updateBestMetric(args, Map.of("eval_loss", 1.0), out));
        assertTrue(
                e.getMessage()
                        .contains("set to 'eval_f1', which is not found in the evaluation metrics. The "
                                + "available evaluation metrics are: [eval_loss]"),
                e.getMessage());
    }

    @Test
    void aWriterThatThrowsLeavesNoCheckpointFolder() throws IOException {
        CheckpointManager cm = new CheckpointManager(out);
        IOException e = assertThrows(
                IOException.class,
                () -> cm.save(7, dir -> {
                    Files.writeString(dir.resolve("model.safetensors"), "half");
                    throw new IOException("disk full");
                }));
        assertEquals("disk full", e.getMessage());
        assertFalse(Files.exists(out.resolve("checkpoint-7")));
        assertFalse(Files.exists(out.resolve("tmp-checkpoint-7")));
        assertTrue(CheckpointManager.latestCheckpoint(out).isEmpty());
    }

    @Test
    void savingTheSameStepAgainReplacesIt() throws IOException {
        CheckpointManager cm = withCheckpoints(5);
        cm.save(5, dir -> Files.writeString(dir.resolve("other"), "y"));
        assertFalse(Files.exists(out.resolve("checkpoint-5/model.safetensors")));
        assertTrue(Files.exists(out.resolve("checkpoint-5/other")));
    }

    @Test
    void resumeTrueFindsTheLatestAndFailsClearlyWhenThereIsNone() throws IOException {
        TrainingArguments args = TrainingArguments.builder(out.toString())
                .build()
                .withOverrides(Map.of("resume_from_checkpoint", "true"));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> CheckpointManager.resolveResume(args));
        assertTrue(e.getMessage().contains("holds no checkpoint-<step> folder"), e.getMessage());
        CheckpointManager cm = new CheckpointManager(out);
        for (long s : new long[] {2, 11}) cm.save(s, dir -> CheckpointManagerFaultsTest.writeLoadable(dir, s));
        assertEquals(
                out.resolve("checkpoint-11"),
                CheckpointManager.resolveResume(args).orElseThrow());
    }
}
