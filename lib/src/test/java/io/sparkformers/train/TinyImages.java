package io.sparkformers.train;

import ai.djl.ndarray.NDManager;
import io.sparkformers.nn.vision.VisionModel;
import io.sparkformers.nn.vision.VisionModels;
import io.sparkformers.nn.vision.cnn.CnnConfig;
import io.sparkformers.vision.ImageProcessorConfig;
import io.sparkformers.vision.RgbImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Small learnable image sets and tiny seeded checkpoints for the vision training and Spark tests. */
public final class TinyImages {
    private TinyImages() {}

    public static final List<String> CLASSES = List.of("horizontal", "vertical", "checker");

    /** 32×32, rescale 1/255, mean = std = 0.5. */
    public static ImageProcessorConfig processor() {
        return new ImageProcessorConfig(
                true, 32, 32, 0, 2, false, 0, 0, true, 1 / 255.0, true, new float[] {0.5f, 0.5f, 0.5f}, new float[] {
                    0.5f, 0.5f, 0.5f
                });
    }

    /** Image of class {@code c} (0 horizontal stripes, 1 vertical stripes, 2 checker) with seeded noise. */
    public static RgbImage pattern(int c, int size, long seed) {
        Random r = new Random(seed);
        int phase = r.nextInt(4);
        byte[] px = new byte[size * size * 3];
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                boolean on = switch (c) {
                    case 0 -> ((y + phase) / 4) % 2 == 0;
                    case 1 -> ((x + phase) / 4) % 2 == 0;
                    default -> (((x + phase) / 4) + ((y + phase) / 4)) % 2 == 0;
                };
                int v = Math.max(0, Math.min(255, (on ? 200 : 50) + (int) (r.nextGaussian() * 20)));
                for (int ch = 0; ch < 3; ch++) px[(y * size + x) * 3 + ch] = (byte) v;
            }
        }
        return new RgbImage(size, size, px);
    }

    /** {@code perClass} images of each of {@code classes} classes, interleaved. */
    public static ImageDataset dataset(int perClass, int classes, long seed) {
        List<RgbImage> images = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (int i = 0; i < perClass; i++) {
            for (int c = 0; c < classes; c++) {
                images.add(pattern(c, 32, seed * 1000 + i * 10 + c));
                labels.add(c);
            }
        }
        return ImageDataset.of("tiny patterns (seed " + seed + ")", images, labels, CLASSES.subList(0, classes));
    }

    /** A seeded, untrained tiny checkpoint (base width 8) of {@code modelType} with {@code labels} saved in {@code dir}. */
    public static Path checkpoint(Path dir, String modelType, List<String> labels, long seed) throws IOException {
        CnnConfig c = CnnConfig.tiny(modelType, labels.size());
        java.util.Map<Integer, String> names = new java.util.LinkedHashMap<>();
        for (int i = 0; i < labels.size(); i++) names.put(i, labels.get(i));
        c = c.withLabels(names);
        try (NDManager m = NDManager.newBaseManager()) {
            TrainStep.seedTorch(seed);
            VisionModel model = VisionModels.fromConfig(c.toJson(), true).initialize(m);
            VisionModels.savePretrained(model, processor(), dir);
        }
        return dir;
    }
}
