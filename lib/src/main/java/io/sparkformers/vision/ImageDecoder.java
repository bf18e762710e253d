package io.sparkformers.vision;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * JPEG, PNG (and the other formats of {@code javax.imageio}: BMP, GIF, WBMP) to {@link RgbImage}, as PIL's
 * {@code Image.open(...).convert("RGB")}: grayscale is copied to three channels, alpha is dropped (not composited),
 * palettes are expanded. Every failure is an {@link ImageDecodeException} naming the source; nothing else escapes.
 * CMYK JPEGs are not supported by the JDK's reader and are reported as such.
 *
 * <p>An image is refused before any pixel is decoded when its header claims more than {@link #MAX_PIXELS} pixels
 * (PIL's decompression-bomb limit), so a few bytes claiming 10^6 × 10^6 pixels never allocate a raster, or when its
 * decode would take more heap than {@link #maxDecodeBytes()} (the bytes per pixel of its raw type counted).
 */
public final class ImageDecoder {

    /** Largest image decoded, in pixels: PIL's {@code Image.MAX_IMAGE_PIXELS} (about 89.5 M, 256 MiB of RGB). */
    public static final long MAX_PIXELS = 89_478_485L;

    static {
        ImageIO.setUseCache(false); // decode in memory; no temp files on executors
    }

    private ImageDecoder() {}

    /** Reads and decodes a file; the exception names the file. */
    public static RgbImage decode(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ImageDecodeException(file.toString(), "the file cannot be read (" + e + ")", e);
        }
        return decode(bytes, file.toString());
    }

    /**
     * Decodes encoded image bytes.
     *
     * @param source what the bytes are (a path, a row id), used in error messages
     */
    public static RgbImage decode(byte[] bytes, String source) {
        if (bytes == null || bytes.length == 0) {
            throw new ImageDecodeException(source, "the input is empty (0 bytes); expected JPEG or PNG bytes");
        }
        BufferedImage img;
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new ImageDecodeException(
                        source,
                        "not a JPEG, PNG, BMP or GIF image (" + bytes.length + " bytes starting " + hex(bytes) + ")");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                checkSize(reader.getWidth(0), reader.getHeight(0), source);
                checkMemory(reader, bytes.length, source);
                img = reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (ImageDecodeException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new ImageDecodeException(source, "corrupt or truncated image data (" + e.getMessage() + ")", e);
        }
        if (img == null) throw new ImageDecodeException(source, "the decoder returned no image");
        checkSize(img.getWidth(), img.getHeight(), source);
        return toRgb(img, source);
    }

    /** Refuses a size over {@link #MAX_PIXELS} (or not positive) before anything of that size is allocated. */
    private static void checkSize(int width, int height, String source) {
        if (width <= 0 || height <= 0) {
            throw new ImageDecodeException(source, "the header gives a size of " + width + "x" + height);
        }
        if ((long) width * height > MAX_PIXELS) {
            throw new ImageDecodeException(
                    source,
                    "the header claims " + width + "x" + height + " = "
                            + (long) width * height + " pixels, more than the limit of " + MAX_PIXELS
                            + " (ImageDecoder.MAX_PIXELS, PIL's decompression-bomb limit); downscale the image first");
        }
    }

    /** System property of the bound on one decode's heap bytes ({@link #maxDecodeBytes()}). */
    public static final String DECODE_BYTES_PROPERTY = "sparkformers.imageDecodeBytes";

    /**
     * Most heap bytes one decode may take ({@link #decodeBytes}): {@code -Dsparkformers.imageDecodeBytes=N}, else a
     * quarter of the JVM's maximum heap (1 GiB of a 4 GiB executor; a full-size 89.5 MP 8-bit RGB image needs 512
     * MiB), so that a few task threads decoding at once still fit.
     */
    public static long maxDecodeBytes() {
        String prop = System.getProperty(DECODE_BYTES_PROPERTY);
        if (prop != null && !prop.isBlank()) return Long.parseLong(prop.trim());
        return Runtime.getRuntime().maxMemory() / 4;
    }

    /**
     * Heap bytes decoding image 0 takes, from its header: the decoded raster (width × height × the bits per pixel of
     * the reader's raw image type, one data element per band as Java stores it: a 16-bit RGBA PNG takes 8 bytes a
     * pixel), the RGB copy made from it (3 bytes a pixel) and the in-memory cache of the encoded stream (its length).
     * Only image 0 of a GIF is decoded; metadata (ICC profiles, text chunks) is not requested ({@code ignoreMetadata}).
     */
    static long decodeBytes(ImageReader reader, long encodedBytes) throws IOException {
        long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
        javax.imageio.ImageTypeSpecifier type = reader.getRawImageType(0);
        if (type == null) {
            Iterator<javax.imageio.ImageTypeSpecifier> types = reader.getImageTypes(0);
            type = types.hasNext() ? types.next() : null;
        }
        long bitsPerPixel = 32; // unknown layout: an int per pixel (TYPE_INT_ARGB), as the decoder falls back to
        if (type != null) {
            java.awt.image.SampleModel sm = type.getSampleModel();
            bitsPerPixel = (long) sm.getNumDataElements() * java.awt.image.DataBuffer.getDataTypeSize(sm.getDataType());
        }
        return pixels * bitsPerPixel / 8 + pixels * 3 + encodedBytes;
    }

    /**
     * Refuses an image whose decode would take more than {@link #maxDecodeBytes()} of heap, before anything is
     * decoded (found by fuzzing: an image under the pixel limit whose decode needed more than the fuzz JVM's 1 GiB
     * heap; a 16-bit RGBA PNG at the limit, 9459x9459, takes 939 MiB).
     */
    private static void checkMemory(ImageReader reader, long encodedBytes, String source) throws IOException {
        long need = decodeBytes(reader, encodedBytes);
        long max = maxDecodeBytes();
        if (need > max) {
            throw new ImageDecodeException(
                    source,
                    "decoding the " + reader.getWidth(0) + "x" + reader.getHeight(0) + " " + reader.getFormatName()
                            + " image needs about " + (need >> 20) + " MiB of heap, more than the bound of "
                            + (max >> 20) + " MiB ("
                            + (System.getProperty(DECODE_BYTES_PROPERTY) == null
                                    ? "a quarter of the JVM's maximum heap"
                                    : "-D" + DECODE_BYTES_PROPERTY)
                            + "); downscale the image, or raise the bound with -D" + DECODE_BYTES_PROPERTY
                            + "=<bytes> or a larger heap");
        }
    }

    /** A BufferedImage as RGB: 1 band = gray, 2 = gray + alpha, 3 = RGB, 4 = RGBA; palettes via their color model. */
    static RgbImage toRgb(BufferedImage img, String source) {
        int w = img.getWidth();
        int h = img.getHeight();
        Raster r = img.getRaster();
        int bands = r.getNumBands();
        boolean indexed =
                img.getType() == BufferedImage.TYPE_BYTE_INDEXED || img.getType() == BufferedImage.TYPE_BYTE_BINARY;
        byte[] out = new byte[w * h * 3];
        if (indexed
                || (bands >= 3
                        && img.getColorModel().getColorSpace().getType() != java.awt.color.ColorSpace.TYPE_RGB)) {
            if (!indexed && img.getColorModel().getNumColorComponents() != 3) {
                throw new ImageDecodeException(
                        source,
                        "unsupported color space with " + img.getColorModel().getNumColorComponents()
                                + " color channels (CMYK?); convert to RGB");
            }
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int argb = img.getRGB(x, y);
                    int i = (y * w + x) * 3;
                    out[i] = (byte) (argb >> 16);
                    out[i + 1] = (byte) (argb >> 8);
                    out[i + 2] = (byte) argb;
                }
            }
            return new RgbImage(w, h, out);
        }
        if (bands < 1 || bands > 4) {
            throw new ImageDecodeException(source, "unexpected channel count " + bands + " (expected 1 to 4)");
        }
        int shift = Math.max(0, r.getSampleModel().getSampleSize(0) - 8); // 16-bit PNG -> 8 bit, as PIL
        int[] px = new int[bands];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                r.getPixel(x, y, px);
                int i = (y * w + x) * 3;
                if (bands <= 2) { // gray (+ alpha, dropped)
                    byte g = (byte) (px[0] >> shift);
                    out[i] = g;
                    out[i + 1] = g;
                    out[i + 2] = g;
                } else { // RGB (+ alpha, dropped)
                    out[i] = (byte) (px[0] >> shift);
                    out[i + 1] = (byte) (px[1] >> shift);
                    out[i + 2] = (byte) (px[2] >> shift);
                }
            }
        }
        return new RgbImage(w, h, out);
    }

    private static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < Math.min(8, b.length); i++) s.append(String.format("%02x", b[i] & 0xff));
        return s.toString();
    }
}
