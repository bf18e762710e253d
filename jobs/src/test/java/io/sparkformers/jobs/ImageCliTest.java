package io.sparkformers.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.vision.VisionModel;
import io.sparkformers.nn.vision.VisionModels;
import io.sparkformers.nn.vision.cnn.CnnConfig;
import io.sparkformers.vision.ImageProcessorConfig;
import io.sparkformers.vision.RgbImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code pipeline image-classification --image}: HF's [{label, score}] from a saved image checkpoint. */
class ImageCliTest {

    @TempDir
    Path tmp;

    @Test
    void classifiesAnImageFileAsHfDoes() throws Exception {
        Path model = tmp.resolve("model");
        CnnConfig c = CnnConfig.tiny("resnet18-torchvision", 3).withLabels(Map.of(0, "cat", 1, "dog", 2, "fish"));
        try (NDManager m = NDManager.newBaseManager()) {
            VisionModel v = VisionModels.fromConfig(c.toJson(), true).initialize(m);
            VisionModels.savePretrained(
                    v,
                    new ImageProcessorConfig(
                            true,
                            32,
                            32,
                            0,
                            2,
                            false,
                            0,
                            0,
                            true,
                            1 / 255.0,
                            true,
                            new float[] {0.5f, 0.5f, 0.5f},
                            new float[] {0.5f, 0.5f, 0.5f}),
                    model);
        }
        byte[] gray = new byte[28 * 28];
        for (int i = 0; i < gray.length; i++) gray[i] = (byte) (i % 251);
        Path png = tmp.resolve("x.png");
        VisionTrainCommand.writePng(RgbImage.fromGray(28, 28, gray), png);

        CliRun r = CliRun.of(
                "pipeline",
                "image-classification",
                "--model",
                model.toString(),
                "--image",
                png.toString(),
                "--top-k",
                "2",
                "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode out = Json.MAPPER.readTree(r.out().strip());
        assertEquals(2, out.size(), r.out());
        assertTrue(out.get(0).get("score").asDouble() >= out.get(1).get("score").asDouble(), r.out());
        assertTrue(
                java.util.List.of("cat", "dog", "fish")
                        .contains(out.get(0).get("label").asText()),
                r.out());

        CliRun missing = CliRun.of(
                "pipeline",
                "image-classification",
                "--model",
                model.toString(),
                "--image",
                tmp.resolve("nope.png").toString());
        assertEquals(1, missing.exitCode());
        assertTrue(missing.err().contains("--image") && missing.err().contains("nope.png"), missing.err());
        assertTrue(Files.isRegularFile(png));
    }

    @Test
    void visionTrainFromScratchRunsDataParallelThroughTheImageEstimator() throws Exception {
        Path out = tmp.resolve("fmnist");
        CliRun r = CliRun.of(
                "vision-train",
                "--experiment",
                "scratch",
                "--workers",
                "2",
                "--train-limit",
                "2048",
                "--test-limit",
                "500",
                "--epochs",
                "2",
                "--batch-size",
                "64",
                "--base-width",
                "8",
                "--lr",
                "3e-3",
                "--output",
                out.toString(),
                "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode scratch = Json.MAPPER.readTree(r.out().strip()).get("scratch");
        assertEquals(2, scratch.get("workers").asInt(), r.out());
        assertEquals(32, scratch.get("per_worker_batch_size").asInt(), r.out());
        assertEquals(2, scratch.get("ranks").size(), r.out());
        // ten classes, chance 0.1: two epochs over 2,048 images (64 steps) separate them well above it
        assertTrue(scratch.get("test_accuracy").asDouble() > 0.5, r.out());
        assertTrue(Files.isRegularFile(out.resolve("scratch").resolve("model.safetensors")));

        CliRun uneven = CliRun.of(
                "vision-train",
                "--experiment",
                "scratch",
                "--workers",
                "3",
                "--batch-size",
                "64",
                "--output",
                out.toString());
        assertEquals(1, uneven.exitCode());
        assertTrue(uneven.err().contains("--batch-size 64") && uneven.err().contains("--workers 3"), uneven.err());
    }
}
