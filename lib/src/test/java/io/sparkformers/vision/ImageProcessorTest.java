package io.sparkformers.vision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.sparkformers.hub.Json;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** HF image-processor semantics: sizes, crop, rescale and normalize, config parsing. */
class ImageProcessorTest {

    static RgbImage constant(int w, int h, int r, int g, int b) {
        byte[] p = new byte[w * h * 3];
        for (int i = 0; i < w * h; i++) {
            p[3 * i] = (byte) r;
            p[3 * i + 1] = (byte) g;
            p[3 * i + 2] = (byte) b;
        }
        return new RgbImage(w, h, p);
    }

    @Test
    void imagenetTransformGivesNormalisedCrops() {
        ImageProcessor p = new ImageProcessor(ImageProcessorConfig.imagenet());
        assertArrayEquals(new int[] {224, 224}, p.outputSize(300, 200));
        float[] chw = p.preprocess(constant(300, 200, 255, 0, 128));
        assertEquals(3 * 224 * 224, chw.length);
        assertEquals((1 - 0.485f) / 0.229f, chw[0], 1e-5);
        assertEquals((0 - 0.456f) / 0.224f, chw[224 * 224 + 5000], 1e-5);
        assertEquals((128 / 255f - 0.406f) / 0.225f, chw[2 * 224 * 224 + 100], 1e-4);
    }

    @Test
    void shortestEdgeKeepsAspectAndTruncatesLikeHf() {
        ImageProcessorConfig c = ImageProcessorConfig.fromJson(Json.MAPPER
                .createObjectNode()
                .set("size", Json.MAPPER.createObjectNode().put("shortest_edge", 256)));
        ImageProcessor p = new ImageProcessor(c);
        assertArrayEquals(new int[] {256, 384}, p.outputSize(300, 200)); // 256 * 300 / 200 = 384
        assertArrayEquals(new int[] {341, 256}, p.outputSize(300, 400)); // int(256 * 400 / 300) = 341
    }

    /** Values from PIL 9 in float mode ("F", no 8-bit rounding): Image.fromarray(ramp, "F").resize(...). */
    @Test
    void resamplingMatchesPilOnARamp() {
        float[] chw = new float[3 * 8];
        for (int c = 0; c < 3; c++) for (int x = 0; x < 8; x++) chw[c * 8 + x] = x * 10;
        assertArrayEquals(
                new float[] {7.142857f, 25f, 45f, 62.857143f},
                Arrays.copyOf(Resampling.resize(chw, 1, 8, 1, 4, 2), 4),
                1e-4f);
        assertArrayEquals(
                new float[] {8.96465f, 35f, 61.03535f}, Arrays.copyOf(Resampling.resize(chw, 1, 8, 1, 3, 3), 3), 1e-4f);
        assertArrayEquals(
                new float[] {
                    -0.73324025f,
                    3.2947085f,
                    10.384615f,
                    16.538462f,
                    22.692308f,
                    28.846153f,
                    35f,
                    41.153847f,
                    47.307693f,
                    53.46154f,
                    59.615383f,
                    66.70529f,
                    70.73324f
                },
                Arrays.copyOf(Resampling.resize(chw, 1, 8, 1, 13, 3), 13),
                1e-4f);
    }

    @Test
    void batchesToBchw() {
        try (NDManager m = NDManager.newBaseManager()) {
            ImageProcessor p = new ImageProcessor(ImageProcessorConfig.vitDefaults());
            NDArray x = p.pixelValues(m, List.of(constant(50, 40, 255, 255, 255), constant(10, 90, 0, 0, 0)));
            assertEquals(new Shape(2, 3, 224, 224), x.getShape());
            assertEquals(1f, x.get(0).max().getFloat(), 1e-6);
            assertEquals(-1f, x.get(1).min().getFloat(), 1e-6);
        }
    }

    @Test
    void differentSizesWithoutFixedOutputAreRefused() {
        ImageProcessor p = new ImageProcessor(
                new ImageProcessorConfig(true, 0, 0, 32, 2, false, 0, 0, true, 1 / 255.0, false, null, null));
        try (NDManager m = NDManager.newBaseManager()) {
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class,
                    () -> p.pixelValues(m, List.of(constant(32, 32, 0, 0, 0), constant(64, 32, 0, 0, 0))));
            assertTrue(e.getMessage().contains("set a fixed size or a crop_size"), e.getMessage());
        }
    }

    @Test
    void pixelBatchesLiveInLibtorchMemory() {
        ImageProcessor p = new ImageProcessor(ImageProcessorConfig.imagenet());
        try (NDManager m = NDManager.newBaseManager()) {
            java.util.Map<String, NDArray> batches = new java.util.LinkedHashMap<>();
            for (int b = 1; b <= 8; b++) {
                List<RgbImage> images = new java.util.ArrayList<>();
                for (int i = 0; i < b; i++) images.add(constant(40 + i, 30, 10 * i, 20, 30));
                NDArray x = p.pixelValues(m, images);
                assertArrayEquals(p.preprocess(images.get(b - 1)), x.get(b - 1).toFloatArray());
                batches.put("batch of " + b, x);
            }
            assertEquals(
                    java.util.Map.of(),
                    io.sparkformers.nn.NativeArraysTest.misaligned(batches),
                    "pixel batches off a 64-byte boundary (offset by name)");
        }
    }

    @Test
    void configRoundTripsThroughJson() {
        ImageProcessorConfig c = ImageProcessorConfig.imagenet();
        assertEquals(c, ImageProcessorConfig.fromJson(c.toJson()));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> ImageProcessorConfig.fromJson(
                        Json.MAPPER.createObjectNode().put("resample", 1)));
        assertEquals("unsupported resample 1 (supported: 0 nearest, 2 bilinear, 3 bicubic)", e.getMessage());
    }
}
