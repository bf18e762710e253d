package io.sparkformers.safetensors;

import static io.sparkformers.safetensors.SpecBytes.entry;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Offsets beyond 2^31: a sparse file whose header describes a 3 GiB U8 tensor 'big' followed by a 16-byte F32 'tail'.
 * Only the header, a marker near the end of 'big' and 'tail' are written; the rest is a hole, so the test needs
 * neither gigabytes of disk nor of heap.
 */
class LargeOffsetsTest {

    private static final long BIG = 3L << 30;

    @TempDir
    Path dir;

    private Path file;

    @BeforeEach
    void writeSparseFile() throws IOException {
        String header = "{" + entry("big", "U8", "[" + BIG + "]", 0, BIG) + ","
                + entry("tail", "F32", "[4]", BIG, BIG + 16) + "}";
        StringBuilder padded = new StringBuilder(header);
        while (padded.length() % 8 != 0) padded.append(' ');
        byte[] h = padded.toString().getBytes(StandardCharsets.UTF_8);
        long dataStart = 8 + h.length;
        file = dir.resolve("sparse.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.write(SpecBytes.le64(h.length));
            raf.write(h);
            raf.setLength(dataStart + BIG + 16);
            raf.seek(dataStart + BIG - 8);
            raf.write(new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
            ByteBuffer tail = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            tail.putFloat(1f).putFloat(-2f).putFloat(0.5f).putFloat(1e30f);
            raf.write(tail.array());
        }
        assertEquals(dataStart + BIG + 16, Files.size(file));
    }

    @Test
    void readsATensorWhoseOffsetsLieBeyondThreeGiB() throws IOException {
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertEquals(new TensorInfo("tail", DType.F32, new long[] {4}, BIG, BIG + 16), st.info("tail"));
            Tensor tail = st.tensor("tail");
            assertTrue(tail.data().isDirect(), "tensor bytes are mapped, not copied onto the heap");
            assertArrayEquals(new float[] {1f, -2f, 0.5f, 1e30f}, tail.toFloatArray());
        }
    }

    @Test
    void slicesPartsOfATensorLargerThanTwoGiB() throws IOException {
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            ByteBuffer end = st.slice("big", BIG - 8, 8);
            byte[] b = new byte[8];
            end.get(b);
            assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, b);
            ByteBuffer hole = st.slice("big", (1L << 31) + 5, 4);
            assertEquals(0, hole.getInt(0));
        }
    }

    @Test
    void refusesToMapATensorLargerThanTwoGiBInOneBuffer() throws IOException {
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> st.tensor("big"));
            assertEquals(
                    file + ": tensor 'big' is 3221225472 bytes, more than a single buffer holds (2147483647);"
                            + " read it in parts with slice(name, offset, length)",
                    e.getMessage());
            assertThrows(SafetensorsException.class, st::readAll);
        }
    }

    @Test
    void checkpointReadsTheLargeFileToo() throws IOException {
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(file)) {
            assertArrayEquals(
                    new float[] {1f, -2f, 0.5f, 1e30f}, ckpt.tensor("tail").toFloatArray());
            assertEquals(BIG, ckpt.info("big").byteLength());
        }
    }
}
