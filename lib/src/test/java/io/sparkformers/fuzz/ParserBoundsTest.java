package io.sparkformers.fuzz;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.bert.BertConfig;
import io.sparkformers.safetensors.SafetensorsException;
import io.sparkformers.safetensors.SafetensorsFile;
import io.sparkformers.vision.Idx;
import io.sparkformers.vision.ImageDecodeException;
import io.sparkformers.vision.ImageDecoder;
import io.sparkformers.vision.ImageProcessor;
import io.sparkformers.vision.ImageProcessorConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stated bounds of the parsers, each with the lying input that would otherwise allocate far beyond the file:
 * refused before the allocation, with one message naming the input, the field and the limit.
 */
class ParserBoundsTest {

    @Test
    void safetensorsHeaderLengthOf2To60IsRefusedBeforeReading(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("model.safetensors");
        Files.write(
                file,
                ByteBuffer.allocate(16)
                        .order(ByteOrder.LITTLE_ENDIAN)
                        .putLong(1L << 60)
                        .array());
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(file));
        assertTrue(
                e.getMessage().startsWith(file + ": header length 1152921504606846976 exceeds the 100000000-byte cap"),
                e.getMessage());
    }

    @Test
    void idxClaiming10To12ValuesIsRefusedBeforeAllocating(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("train-images-idx3-ubyte");
        Files.write(
                file,
                ByteBuffer.allocate(16)
                        .putInt(0x0803)
                        .putInt(10_000)
                        .putInt(10_000)
                        .putInt(10_000)
                        .array());
        IOException e = assertThrows(IOException.class, () -> Idx.readImages(file));
        assertTrue(
                e.getMessage()
                        .equals(file + ": the header's dimensions [10000, 10000, 10000] give 1000000000000"
                                + " values, more than the 2147483639 one array holds (Idx.MAX_VALUES)"),
                e.getMessage());
    }

    @Test
    void idxClaimingMoreThanTheFileHoldsIsTruncatedNotAllocated(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("labels");
        Files.write(
                file,
                ByteBuffer.allocate(10).putInt(0x0801).putInt(2_000_000_000).array());
        IOException e = assertThrows(IOException.class, () -> Idx.readLabels(file));
        assertTrue(
                e.getMessage().equals(file + " is truncated: the header promises 2000000000 values"), e.getMessage());
    }

    @Test
    void pngClaimingAMillionByAMillionPixelsIsRefusedBeforeDecoding() throws IOException {
        byte[] png = pngHeader(1_000_000, 1_000_000);
        ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> ImageDecoder.decode(png, "bomb.png"));
        assertTrue(
                e.getMessage()
                        .startsWith("cannot decode image bomb.png: the header claims 1000000x1000000 = "
                                + "1000000000000 pixels, more than the limit of 89478485"),
                e.getMessage());
    }

    /**
     * Found by fuzzing: an image under the pixel limit whose decode needed more than a 1 GiB heap. 9000x9000 16-bit
     * RGBA is 81 M pixels (under 89.5 M) but 8 bytes a pixel as Java stores it, plus 3 for the RGB copy: 891 MB.
     * The same size in 8-bit RGB (486 MB) passes the 512 MiB bound and only then fails on its missing pixel data.
     */
    @Test
    void pngUnderThePixelLimitIsRefusedWhenItsDecodeWouldExceedTheMemoryBound() throws IOException {
        String old = System.getProperty("sparkformers.imageDecodeBytes");
        System.setProperty("sparkformers.imageDecodeBytes", Long.toString(512L << 20));
        try {
            byte[] deep = pngHeader(9000, 9000, 16, 6);
            ImageDecodeException e =
                    assertThrows(ImageDecodeException.class, () -> ImageDecoder.decode(deep, "deep.png"));
            assertTrue(
                    e.getMessage()
                            .equals("cannot decode image deep.png: decoding the 9000x9000 png image needs about 849 "
                                    + "MiB of heap, more than the bound of 512 MiB (-Dsparkformers.imageDecodeBytes); "
                                    + "downscale the image, or raise the bound with "
                                    + "-Dsparkformers.imageDecodeBytes=<bytes> or a larger heap"),
                    e.getMessage());
            byte[] flat = pngHeader(9000, 9000, 8, 2);
            ImageDecodeException f =
                    assertThrows(ImageDecodeException.class, () -> ImageDecoder.decode(flat, "flat.png"));
            assertTrue(f.getMessage().startsWith("cannot decode image flat.png: corrupt or truncated"), f.getMessage());
        } finally {
            if (old == null) System.clearProperty("sparkformers.imageDecodeBytes");
            else System.setProperty("sparkformers.imageDecodeBytes", old);
        }
    }

    @Test
    void preprocessorSizesBeyondTheLimitAreRefused() throws IOException {
        ObjectNode json = (ObjectNode) Json.MAPPER.readTree("{\"size\": {\"height\": 100000, \"width\": 100000}}");
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> ImageProcessorConfig.fromJson(json));
        assertTrue(
                e.getMessage().startsWith("size 100000x100000 is beyond the limits of 16384 pixels a side"),
                e.getMessage());
    }

    @Test
    void shortestEdgeResizeOfAnElongatedImageIsRefused() throws IOException {
        ObjectNode json = (ObjectNode) Json.MAPPER.readTree("{\"size\": {\"shortest_edge\": 4096}}");
        ImageProcessor p = new ImageProcessor(ImageProcessorConfig.fromJson(json));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.outputSize(1, 100_000));
        assertTrue(e.getMessage().startsWith("resizing a 1x100000 image to shortest_edge 4096 gives"), e.getMessage());
    }

    @Test
    void numLabelsOfTwoBillionIsRefusedBeforeNamingThem() throws IOException {
        ObjectNode json = (ObjectNode) Json.MAPPER.readTree("{\"num_labels\": 2000000000}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BertConfig.fromJson(json));
        assertTrue(
                e.getMessage()
                        .equals("num_labels 2000000000 is more than the 1000000 labels a head may have "
                                + "(ConfigJson.MAX_LABELS)"),
                e.getMessage());
    }

    @Test
    void numLabelsBeyond32BitsIsNotTruncated() throws IOException {
        ObjectNode json = (ObjectNode) Json.MAPPER.readTree("{\"num_labels\": 4294967298}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BertConfig.fromJson(json));
        assertTrue(
                e.getMessage().equals("config key 'num_labels' must be an integer but is 4294967298"), e.getMessage());
    }

    /** The signature and IHDR chunk of a PNG: all a reader needs to report the size. */
    private static byte[] pngHeader(int width, int height) throws IOException {
        return pngHeader(width, height, 8, 2);
    }

    /** The same with a bit depth and PNG colour type (2: RGB, 6: RGBA). */
    private static byte[] pngHeader(int width, int height, int bitDepth, int colorType) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        ByteBuffer chunk = ByteBuffer.allocate(4 + 13)
                .put(new byte[] {'I', 'H', 'D', 'R'})
                .putInt(width)
                .putInt(height)
                .put((byte) bitDepth)
                .put((byte) colorType)
                .put((byte) 0)
                .put((byte) 0)
                .put((byte) 0);
        CRC32 crc = new CRC32();
        crc.update(chunk.array());
        out.write(ByteBuffer.allocate(4).putInt(13).array());
        out.write(chunk.array());
        out.write(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
        return out.toByteArray();
    }
}
