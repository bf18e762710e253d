package io.sparkformers.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import io.sparkformers.vision.Idx;
import io.sparkformers.vision.ImageDecodeException;
import io.sparkformers.vision.ImageDecoder;
import io.sparkformers.vision.ImageProcessor;
import io.sparkformers.vision.ImageProcessorConfig;
import io.sparkformers.vision.RgbImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Fuzzes the vision inputs: encoded images, IDX files, and {@code preprocessor_config.json}. */
class VisionFuzzTest {

    private static final String SOURCE = "fuzz-image";
    private static final RgbImage SMALL = new RgbImage(3, 2, new byte[18]);

    @FuzzTest(maxDuration = "60s")
    void imageBytes(byte[] bytes) throws Exception {
        Outcomes.onlyClearErrors(SOURCE, List.of(ImageDecodeException.class), () -> {
            RgbImage img = ImageDecoder.decode(bytes, SOURCE);
            assertTrue((long) img.width() * img.height() <= ImageDecoder.MAX_PIXELS, img.width() + "x" + img.height());
        });
    }

    @FuzzTest(maxDuration = "60s")
    void idxFile(byte[] bytes) throws Exception {
        Path file = Outcomes.write("", "train-images-idx3-ubyte", bytes);
        for (int dims : new int[] {1, 3}) {
            Outcomes.onlyClearErrors(file.toString(), List.of(IOException.class), () -> {
                Idx.UByteArray a = Idx.read(file, dims);
                long n = 1;
                for (int d : a.dims()) n *= d;
                assertTrue(n == a.data().length, "dims and data disagree");
            });
        }
    }

    @FuzzTest(maxDuration = "60s")
    void preprocessorConfig(byte[] bytes) throws Exception {
        Path file = Outcomes.write("", ImageProcessor.CONFIG_FILE, bytes);
        ObjectNode[] json = new ObjectNode[1];
        Outcomes.onlyClearErrors(file.toString(), List.of(IOException.class), () -> json[0] = Json.readObject(file));
        if (json[0] == null) return;
        Outcomes.onlyClearErrors("", List.of(IllegalArgumentException.class), () -> {
            ImageProcessor p = new ImageProcessor(ImageProcessorConfig.fromJson(json[0]));
            for (int[] wh : new int[][] {{3, 2}, {1, 9000}, {9000, 1}}) {
                int[] out = p.outputSize(wh[0], wh[1]);
                assertTrue(
                        out[0] > 0 && out[1] > 0 && (long) out[0] * out[1] <= ImageDecoder.MAX_PIXELS,
                        "output size " + out[0] + "x" + out[1]);
            }
            int[] out = p.outputSize(SMALL.width(), SMALL.height());
            if ((long) out[0] * out[1] <= 256 * 256) p.preprocess(SMALL);
        });
    }
}
