package io.sparkformers.vision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/** Decoding as PIL's convert("RGB"), and clear errors for bad input. */
class ImageDecoderTest {

    static byte[] encode(BufferedImage img, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(img, format, out), "no writer for " + format);
        return out.toByteArray();
    }

    static BufferedImage image(int type, int w, int h) {
        BufferedImage img = new BufferedImage(w, h, type);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) img.setRGB(x, y, 0x80000000 | (x * 20) << 16 | (y * 30) << 8 | 77);
        return img;
    }

    @Test
    void rgbPngKeepsEveryPixel() throws IOException {
        RgbImage img = ImageDecoder.decode(encode(image(BufferedImage.TYPE_INT_RGB, 5, 4), "png"), "rgb.png");
        assertEquals(5, img.width());
        assertEquals(4, img.height());
        assertEquals(60, img.get(3, 2, 0));
        assertEquals(60, img.get(3, 2, 1));
        assertEquals(77, img.get(3, 2, 2));
    }

    @Test
    void alphaIsDroppedNotComposited() throws IOException {
        RgbImage img = ImageDecoder.decode(encode(image(BufferedImage.TYPE_INT_ARGB, 3, 3), "png"), "rgba.png");
        assertEquals(40, img.get(2, 1, 0));
        assertEquals(30, img.get(2, 1, 1));
        assertEquals(77, img.get(2, 1, 2));
    }

    @Test
    void grayscaleBecomesThreeEqualChannels() throws IOException {
        BufferedImage g = new BufferedImage(2, 2, BufferedImage.TYPE_BYTE_GRAY);
        g.getRaster().setSample(1, 0, 0, 200);
        RgbImage img = ImageDecoder.decode(encode(g, "png"), "gray.png");
        assertEquals(200, img.get(1, 0, 0));
        assertEquals(200, img.get(1, 0, 1));
        assertEquals(200, img.get(1, 0, 2));
    }

    @Test
    void jpegDecodes() throws IOException {
        RgbImage img = ImageDecoder.decode(encode(image(BufferedImage.TYPE_INT_RGB, 16, 8), "jpg"), "photo.jpg");
        assertEquals(16, img.width());
        assertEquals(8, img.height());
    }

    @Test
    void emptyBytesNameTheSource() {
        ImageDecodeException e =
                assertThrows(ImageDecodeException.class, () -> ImageDecoder.decode(new byte[0], "row 17"));
        assertEquals(
                "cannot decode image row 17: the input is empty (0 bytes); expected JPEG or PNG bytes", e.getMessage());
        assertEquals("row 17", e.source());
    }

    @Test
    void corruptBytesAreReportedNotCrashed() {
        byte[] junk = "definitely not an image".getBytes();
        ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> ImageDecoder.decode(junk, "junk.bin"));
        assertTrue(
                e.getMessage().startsWith("cannot decode image junk.bin: not a JPEG, PNG, BMP or GIF image"),
                e.getMessage());
    }

    @Test
    void truncatedPngIsReported() throws IOException {
        byte[] png = encode(image(BufferedImage.TYPE_INT_RGB, 64, 64), "png");
        byte[] cut = Arrays.copyOf(png, png.length / 2);
        ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> ImageDecoder.decode(cut, "cut.png"));
        assertTrue(
                e.getMessage().startsWith("cannot decode image cut.png: corrupt or truncated image data"),
                e.getMessage());
    }

    @Test
    void unexpectedChannelCountIsReported() {
        ImageDecodeException e = assertThrows(
                ImageDecodeException.class, () -> RgbImage.fromInterleaved(2, 2, 2, new byte[8], true, "row 3"));
        assertEquals(
                "cannot decode image row 3: unexpected channel count 2 (expected 1 = gray, 3 = colour or 4 = "
                        + "colour + alpha)",
                e.getMessage());
    }

    @Test
    void sparkImageRowsAreBgr() {
        RgbImage img = RgbImage.fromInterleaved(1, 1, 4, new byte[] {1, 2, 3, 4}, true, "row 0");
        assertEquals(3, img.get(0, 0, 0));
        assertEquals(2, img.get(0, 0, 1));
        assertEquals(1, img.get(0, 0, 2));
    }
}
