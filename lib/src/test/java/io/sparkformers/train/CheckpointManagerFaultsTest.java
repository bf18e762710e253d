package io.sparkformers.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.Json;
import io.sparkformers.safetensors.SafetensorsWriter;
import io.sparkformers.safetensors.Tensor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints under faults: a full disk or a killed process in the middle of a checkpoint write leaves the previous
 * checkpoint loadable and the next resume takes it; a damaged latest checkpoint is skipped with a warning naming it.
 */
class CheckpointManagerFaultsTest {
    @TempDir
    Path out;

    /** The files a resume reads, small: trainer_state.json, config.json, model and optimizer safetensors. */
    static void writeLoadable(Path dir, long step) throws IOException {
        Files.writeString(dir.resolve(CheckpointManager.TRAINER_STATE_NAME), "{\"global_step\": " + step + "}");
        Files.writeString(dir.resolve(HfCheckpoint.CONFIG), "{\"model_type\": \"bert\"}");
        Map<String, Tensor> weights = Map.of("w", Tensor.ofFloats(new float[] {step, 1, 2, 3}, 4));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), weights, Map.of("format", "pt"));
        SafetensorsWriter.write(dir.resolve(CheckpointManager.OPTIMIZER_NAME), weights, Map.of("format", "pt"));
    }

    private static void truncate(Path file, long bytesLeft) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(bytesLeft);
        }
    }

    private static TrainingArguments resumeLatest(Path outputDir) {
        return TrainingArguments.builder(outputDir.toString())
                .build()
                .withOverrides(Map.of("resume_from_checkpoint", "true"));
    }

    @Test
    void aDamagedLatestCheckpointIsSkippedWithAWarningNamingItAndTheOneBeforeIsTaken() throws IOException {
        CheckpointManager cm = new CheckpointManager(out);
        for (long s : new long[] {3, 6, 9}) cm.save(s, dir -> writeLoadable(dir, s));
        Path model9 = out.resolve("checkpoint-9/model.safetensors");
        truncate(model9, Files.size(model9) - 4); // the disk lost the tail
        Files.delete(out.resolve("checkpoint-6/trainer_state.json")); // a hand edit, a half-copied folder

        List<String> warnings = new ArrayList<>();
        assertEquals(
                out.resolve("checkpoint-3"),
                CheckpointManager.latestUsableCheckpoint(out, warnings::add).orElseThrow());
        assertEquals(2, warnings.size(), warnings.toString());
        assertTrue(
                warnings.get(0).startsWith("skipping checkpoint " + out.resolve("checkpoint-9"))
                        && warnings.get(0).contains("model.safetensors"),
                warnings.get(0));
        assertTrue(
                warnings.get(1).startsWith("skipping checkpoint " + out.resolve("checkpoint-6"))
                        && warnings.get(1).contains("no trainer_state.json"),
                warnings.get(1));
        assertEquals(
                out.resolve("checkpoint-3"),
                CheckpointManager.resolveResume(resumeLatest(out)).orElseThrow());
        assertEquals(
                out.resolve("checkpoint-9"),
                CheckpointManager.latestCheckpoint(out).orElseThrow(),
                "HF's get_last_checkpoint still names the newest folder");
    }

    @Test
    void everyCheckpointDamagedFailsResumeNamingEach() throws IOException {
        CheckpointManager cm = new CheckpointManager(out);
        cm.save(4, dir -> writeLoadable(dir, 4));
        Files.writeString(out.resolve("checkpoint-4/trainer_state.json"), "{\"global_step\": 4"); // cut short
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> CheckpointManager.resolveResume(resumeLatest(out)));
        assertTrue(
                e.getMessage().startsWith("resume_from_checkpoint=true but no checkpoint-<step> folder in output_dir")
                        && e.getMessage().contains("checkpoint-4")
                        && e.getMessage().contains("trainer_state.json is not valid JSON")
                        && e.getMessage().endsWith("unset resume_from_checkpoint to start fresh"),
                e.getMessage());
    }

    @Test
    void aNamedCheckpointThatCannotBeLoadedFailsInOneLine() throws IOException {
        CheckpointManager cm = new CheckpointManager(out);
        Path c = cm.save(5, dir -> writeLoadable(dir, 5));
        Files.delete(c.resolve(CheckpointManager.OPTIMIZER_NAME));
        TrainingArguments args = TrainingArguments.builder(out.toString())
                .build()
                .withOverrides(Map.of("resume_from_checkpoint", c.toString()));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> CheckpointManager.resolveResume(args));
        assertEquals(
                "resume_from_checkpoint " + c + " cannot be loaded (no optimizer.safetensors): name an earlier "
                        + "checkpoint-<step> folder or use true for the newest loadable one",
                e.getMessage());
    }

    @Test
    void aFullDiskDuringACheckpointWriteLeavesThePreviousOneLoadable() throws IOException {
        CheckpointManager cm = new CheckpointManager(out);
        cm.save(3, dir -> writeLoadable(dir, 3));
        // /dev/full fails every write with ENOSPC, as a full disk does: trainer_state.json of checkpoint 6 goes there
        // (written in place as the Trainer writes it; the safetensors files are replaced by a rename, not followed)
        IOException e = assertThrows(
                IOException.class,
                () -> cm.save(6, dir -> {
                    Files.createSymbolicLink(dir.resolve(CheckpointManager.TRAINER_STATE_NAME), Path.of("/dev/full"));
                    writeLoadable(dir, 6);
                }));
        assertTrue(e.getMessage().contains("No space left on device"), e.getMessage());
        assertFalse(Files.exists(out.resolve("checkpoint-6")));
        assertFalse(Files.exists(out.resolve("tmp-checkpoint-6")));
        assertTrue(CheckpointManager.defect(out.resolve("checkpoint-3")).isEmpty());
        assertEquals(
                out.resolve("checkpoint-3"),
                CheckpointManager.resolveResume(resumeLatest(out)).orElseThrow());
    }

    @Test
    void aProcessKilledInsideACheckpointWriteLeavesThePreviousOneLoadable() throws Exception {
        new CheckpointManager(out).save(3, dir -> writeLoadable(dir, 3));
        Process child = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        HalfWrittenCheckpoint.class.getName(),
                        out.toString())
                // stdout carries only the child's signal line; stderr (JVM notices such as "Picked up
                // JAVA_TOOL_OPTIONS", logs) goes to the test's own stderr
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        try (BufferedReader r =
                new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line = r.readLine(); // the child is inside save(6, …)
            assertEquals(HalfWrittenCheckpoint.WRITING, line);
            child.destroyForcibly(); // SIGKILL
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        }
        assertEquals(137, child.exitValue(), "killed by SIGKILL");
        assertTrue(Files.isDirectory(out.resolve("tmp-checkpoint-6")), "the kill left the half-written folder");
        assertFalse(Files.exists(out.resolve("checkpoint-6")));
        assertEquals(
                out.resolve("checkpoint-3"),
                CheckpointManager.resolveResume(resumeLatest(out)).orElseThrow());

        CheckpointManager cm = new CheckpointManager(out); // the resumed run reaches step 6 again
        cm.save(6, dir -> writeLoadable(dir, 6));
        assertFalse(Files.exists(out.resolve("tmp-checkpoint-6")));
        assertEquals(
                out.resolve("checkpoint-6"),
                CheckpointManager.resolveResume(resumeLatest(out)).orElseThrow());
    }

    /** A process that dies in the middle of writing checkpoint 6: it says so on stdout, then waits to be killed. */
    static final class HalfWrittenCheckpoint {
        static final String WRITING = "writing checkpoint-6";

        public static void main(String[] args) throws IOException {
            new CheckpointManager(Path.of(args[0])).save(6, dir -> {
                writeLoadable(dir, 6);
                truncate(dir.resolve("model.safetensors"), 20);
                System.out.println(WRITING);
                System.out.flush();
                try {
                    Thread.sleep(Long.MAX_VALUE);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw new IOException("not killed");
            });
        }
    }

    @Test
    void trainingResumesPastADamagedLatestCheckpointAndMatchesAnUninterruptedRun(@TempDir Path tmp) throws IOException {
        Path tiny = TinyBert.create(tmp.resolve("tiny"));
        TextDataset train = TinyBert.sentiment(36, 0);
        Path full = tmp.resolve("full");
        Trainer.builder(TrainerTest.args(full).maxSteps(7).build(), tiny)
                .build()
                .train(train, null);

        Path cut = tmp.resolve("cut");
        Trainer.builder(TrainerTest.args(cut).maxSteps(7).build(), tiny)
                .callback(new TrainerTest.StopAt(6))
                .build()
                .train(train, null);
        Path optimizer6 = cut.resolve("checkpoint-6").resolve(CheckpointManager.OPTIMIZER_NAME);
        truncate(optimizer6, Files.size(optimizer6) / 2);
        Trainer.builder(
                        TrainerTest.args(cut)
                                .maxSteps(7)
                                .set("resume_from_checkpoint", "true")
                                .build(),
                        tiny)
                .build()
                .train(train, null);

        ObjectNode provenance = Json.readObject(cut.resolve("provenance.json"));
        assertEquals(
                cut.resolve("checkpoint-3").toString(),
                provenance.path("resumed_from").asText());
        assertEquals(
                TrainerTest.weights(full),
                TrainerTest.weights(cut),
                "resumed from 3, the weights equal a run " + "that never stopped");
    }
}
