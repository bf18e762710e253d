package io.sparkformers.vision;

/**
 * A decoded image as 8-bit RGB, row-major, channels last: {@code pixels[(y * width + x) * 3 + c]} with c = R, G, B
 * (0..255 as unsigned bytes). What every {@link ImageProcessor} step takes.
 */
public record RgbImage(int width, int height, byte[] pixels) {

    public RgbImage {
        if (width <= 0 || height <= 0)
            throw new IllegalArgumentException("image size must be > 0 but was " + width + "x" + height);
        if (pixels.length != (long) width * height * 3) {
            throw new IllegalArgumentException("an RGB image of " + width + "x" + height + " needs "
                    + (width * height * 3) + " bytes but got " + pixels.length);
        }
    }

    /** Channel c (0 = R) of pixel (x, y) as 0..255. */
    public int get(int x, int y, int c) {
        return pixels[(y * width + x) * 3 + c] & 0xff;
    }

    /**
     * An image from interleaved 8-bit samples, e.g. a Spark {@code image} data source row (OpenCV order: BGR or BGRA)
     * or a raw RGB(A) buffer: 1 channel = gray, 3 = colour, 4 = colour + alpha (dropped).
     *
     * @param bgr    true when colour samples are stored B, G, R (OpenCV, Spark's image source)
     * @param source named in the error for an unexpected channel count or size
     */
    public static RgbImage fromInterleaved(
            int width, int height, int channels, byte[] data, boolean bgr, String source) {
        if (channels != 1 && channels != 3 && channels != 4) {
            throw new ImageDecodeException(
                    source,
                    "unexpected channel count " + channels + " (expected 1 = gray, 3 = colour or 4 = colour + alpha)");
        }
        if (width <= 0 || height <= 0 || data == null || data.length != (long) width * height * channels) {
            throw new ImageDecodeException(
                    source,
                    "a " + width + "x" + height + "x" + channels + " image needs " + ((long) width * height * channels)
                            + " bytes but has " + (data == null ? 0 : data.length));
        }
        if (channels == 1) return fromGray(width, height, data);
        byte[] rgb = new byte[width * height * 3];
        for (int i = 0, n = width * height; i < n; i++) {
            int o = i * channels;
            rgb[3 * i] = data[o + (bgr ? 2 : 0)];
            rgb[3 * i + 1] = data[o + 1];
            rgb[3 * i + 2] = data[o + (bgr ? 0 : 2)];
        }
        return new RgbImage(width, height, rgb);
    }

    /** A grayscale image (one byte per pixel, row-major) copied into all three channels, as PIL's convert("RGB"). */
    public static RgbImage fromGray(int width, int height, byte[] gray) {
        if (gray.length != (long) width * height) {
            throw new IllegalArgumentException("a gray image of " + width + "x" + height + " needs " + (width * height)
                    + " bytes but got " + gray.length);
        }
        byte[] rgb = new byte[gray.length * 3];
        for (int i = 0; i < gray.length; i++) {
            rgb[3 * i] = gray[i];
            rgb[3 * i + 1] = gray[i];
            rgb[3 * i + 2] = gray[i];
        }
        return new RgbImage(width, height, rgb);
    }
}
