package io.sparkformers.vision;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.sparkformers.hub.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * HF image processor ({@code ViTImageProcessor} and kin) in plain Java: decoded RGB → resize → center crop →
 * rescale → normalize → float32 (3, H, W), batched to (B, 3, H, W).
 *
 * <p>Resizing follows PIL's {@code Image.resize} (separable filters whose support widens with the downscale
 * factor, i.e. antialiased; bilinear = triangle, bicubic = Keys a = -0.5) but in floating point: PIL rounds to
 * 8 bits after each pass, so pixels may differ from HF's by about one 8-bit level (≈ 0.02 after ImageNet
 * normalisation). Parity tests therefore feed already-preprocessed tensors. Center crop uses HF's offset
 * {@code (size - crop) / 2} rounded down (torchvision rounds half up) and pads with zeros when the crop is larger.
 */
public final class ImageProcessor {

    public static final String CONFIG_FILE = "preprocessor_config.json";

    private final ImageProcessorConfig config;

    public ImageProcessor(ImageProcessorConfig config) {
        this.config = config;
    }

    public ImageProcessorConfig config() {
        return config;
    }

    /** The processor of a checkpoint folder ({@code preprocessor_config.json}), or {@code fallback} without one. */
    public static ImageProcessor fromDir(Path dir, ImageProcessorConfig fallback) throws IOException {
        Path file = dir.resolve(CONFIG_FILE);
        if (!Files.isRegularFile(file)) return new ImageProcessor(fallback);
        try {
            return new ImageProcessor(ImageProcessorConfig.fromJson(Json.readObject(file)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** Output (height, width) for an input image of the given size. */
    public int[] outputSize(int width, int height) {
        if (config.doCenterCrop()) return new int[] {config.cropHeight(), config.cropWidth()};
        if (!config.doResize()) return new int[] {height, width};
        if (config.shortestEdge() == 0) return new int[] {config.height(), config.width()};
        return shortestEdge(width, height);
    }

    /**
     * (h, w) with the short side = shortest_edge, the long side {@code (int) (edge * long / short)}; refused when the
     * result would exceed {@link ImageDecoder#MAX_PIXELS} (a very elongated image).
     */
    private int[] shortestEdge(int width, int height) {
        int s = config.shortestEdge();
        long longSide = width <= height ? (long) s * height / width : (long) s * width / height;
        if (longSide * s > ImageDecoder.MAX_PIXELS) {
            throw new IllegalArgumentException("resizing a " + width + "x" + height + " image to shortest_edge " + s
                    + " gives " + longSide * s + " pixels, more than the limit of " + ImageDecoder.MAX_PIXELS
                    + " (ImageDecoder.MAX_PIXELS)");
        }
        return width <= height ? new int[] {(int) longSide, s} : new int[] {s, (int) longSide};
    }

    /** One image → float32 CHW values (3 · H · W). */
    public float[] preprocess(RgbImage img) {
        int h = img.height();
        int w = img.width();
        float[] chw = toChw(img); // (3, h, w) in 0..255
        if (config.doResize()) {
            int[] size = config.shortestEdge() > 0 ? shortestEdge(w, h) : new int[] {config.height(), config.width()};
            chw = Resampling.resize(chw, h, w, size[0], size[1], config.resample());
            h = size[0];
            w = size[1];
        }
        if (config.doCenterCrop()) {
            chw = centerCrop(chw, h, w, config.cropHeight(), config.cropWidth());
            h = config.cropHeight();
            w = config.cropWidth();
        }
        int plane = h * w;
        for (int c = 0; c < 3; c++) {
            float scale = config.doRescale() ? (float) config.rescaleFactor() : 1f;
            float mean = config.doNormalize() ? config.meanOf(c) : 0f;
            float std = config.doNormalize() ? config.stdOf(c) : 1f;
            for (int i = c * plane; i < (c + 1) * plane; i++) chw[i] = (chw[i] * scale - mean) / std;
        }
        return chw;
    }

    /** A batch as pixel_values (B, 3, H, W) float32 on {@code manager}; every image must come out the same size. */
    public NDArray pixelValues(NDManager manager, List<RgbImage> images) {
        if (images.isEmpty()) throw new IllegalArgumentException("no images to preprocess");
        int[] size = outputSize(images.get(0).width(), images.get(0).height());
        int n = 3 * size[0] * size[1];
        float[] batch = new float[images.size() * n];
        for (int i = 0; i < images.size(); i++) {
            RgbImage img = images.get(i);
            int[] s = outputSize(img.width(), img.height());
            if (s[0] != size[0] || s[1] != size[1]) {
                throw new IllegalArgumentException(
                        "image " + i + " preprocesses to " + s[0] + "x" + s[1] + " but image 0 to " + size[0] + "x"
                                + size[1] + ": set a fixed size or a crop_size to batch images of different shapes");
            }
            System.arraycopy(preprocess(img), 0, batch, i * n, n);
        }
        // DJL would leave the batch in the JVM buffer it stages it in, at an alignment that changes from run to run;
        // a clone puts it in libtorch's memory, 64-byte aligned every time (see io.sparkformers.nn.NativeArrays)
        try (NDArray staged = manager.create(batch, new Shape(images.size(), 3, size[0], size[1]))) {
            return staged.duplicate();
        }
    }

    /** (h, w, 3) bytes → (3, h, w) floats 0..255. */
    private static float[] toChw(RgbImage img) {
        int plane = img.width() * img.height();
        float[] out = new float[3 * plane];
        byte[] p = img.pixels();
        for (int i = 0; i < plane; i++) {
            out[i] = p[3 * i] & 0xff;
            out[plane + i] = p[3 * i + 1] & 0xff;
            out[2 * plane + i] = p[3 * i + 2] & 0xff;
        }
        return out;
    }

    /** HF {@code center_crop}: top = (h - ch) / 2, left = (w - cw) / 2 (floor); outside the image is 0. */
    static float[] centerCrop(float[] chw, int h, int w, int ch, int cw) {
        float[] out = new float[3 * ch * cw];
        int top = Math.floorDiv(h - ch, 2);
        int left = Math.floorDiv(w - cw, 2);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < ch; y++) {
                int sy = y + top;
                if (sy < 0 || sy >= h) continue;
                for (int x = 0; x < cw; x++) {
                    int sx = x + left;
                    if (sx >= 0 && sx < w) out[(c * ch + y) * cw + x] = chw[(c * h + sy) * w + sx];
                }
            }
        }
        return out;
    }
}
