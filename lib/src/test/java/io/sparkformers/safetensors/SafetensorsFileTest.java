package io.sparkformers.safetensors;

import static io.sparkformers.safetensors.SpecBytes.bytes;
import static io.sparkformers.safetensors.SpecBytes.entry;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reader against files built byte by byte from the spec, valid and malformed. */
class SafetensorsFileTest {

    @TempDir
    Path dir;

    private Path write(byte[] content) throws IOException {
        return Files.write(dir.resolve("t.safetensors"), content);
    }

    /** Opening must fail with a SafetensorsException whose message names the file and contains {@code expected}. */
    private SafetensorsException rejects(byte[] content, String expected) throws IOException {
        Path f = write(content);
        SafetensorsException e = assertThrows(
                SafetensorsException.class, () -> SafetensorsFile.open(f).close());
        assertTrue(e.getMessage().startsWith(f.toString() + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
        assertEquals(f, e.file());
        return e;
    }

    private static byte[] zeros(int n) {
        return new byte[n];
    }

    @Test
    void readsHandBuiltFileWrittenPerSpec() throws IOException {
        // data order w, b; names() must still come back sorted
        String header = "{\"__metadata__\":{\"format\":\"pt\"}," + entry("w", "F32", "[2]", 0, 8) + ","
                + entry("b", "I64", "[]", 8, 16) + "}";
        byte[] data = bytes(
                0x00, 0x00, 0xC0, 0x3F, // 1.5f  = 0x3FC00000
                0x00, 0x00, 0x00, 0xC0, // -2.0f = 0xC0000000
                0x07, 0, 0, 0, 0, 0, 0, 0); // 7L
        Path f = write(SpecBytes.paddedFile(header, data));
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertEquals(List.of("b", "w"), List.copyOf(st.names()));
            assertEquals(Map.of("format", "pt"), st.metadata());
            assertEquals(new TensorInfo("w", DType.F32, new long[] {2}, 0, 8), st.info("w"));
            assertEquals(new TensorInfo("b", DType.I64, new long[0], 8, 16), st.info("b"));
            assertArrayEquals(new float[] {1.5f, -2.0f}, st.tensor("w").toFloatArray());
            Tensor b = st.tensor("b");
            assertEquals(0, b.shape().length);
            assertArrayEquals(new long[] {7}, b.toLongArray());
            assertEquals(Map.of("w", st.tensor("w"), "b", b), st.readAll());
        }
    }

    @Test
    void acceptsUnpaddedHeader() throws IOException {
        String header = "{" + entry("x", "U8", "[3]", 0, 3) + "}";
        assertTrue(header.length() % 8 != 0);
        try (SafetensorsFile st = SafetensorsFile.open(write(SpecBytes.file(header, bytes(1, 2, 255))))) {
            assertArrayEquals(new long[] {1, 2, 255}, st.tensor("x").toLongArray());
            assertEquals(Map.of(), st.metadata());
        }
    }

    @Test
    void tensorBufferIsAReadOnlySliceOfJustThatTensor() throws IOException {
        String header = "{" + entry("a", "U8", "[2]", 0, 2) + "," + entry("b", "U8", "[3]", 2, 5) + "}";
        try (SafetensorsFile st = SafetensorsFile.open(write(SpecBytes.paddedFile(header, bytes(1, 2, 3, 4, 5))))) {
            ByteBuffer b = st.tensor("b").data();
            assertEquals(3, b.remaining());
            assertEquals(3, b.get(0));
            assertThrows(ReadOnlyBufferException.class, () -> b.put(0, (byte) 9));
            assertEquals(4, st.slice("b", 1, 1).get(0));
        }
    }

    @Test
    void readsEmptyFileWithNoTensors() throws IOException {
        try (SafetensorsFile st = SafetensorsFile.open(write(SpecBytes.paddedFile("{}", new byte[0])))) {
            assertTrue(st.names().isEmpty());
            assertTrue(st.readAll().isEmpty());
        }
    }

    @Test
    void unknownTensorNameIsReportedWithFileAndName() throws IOException {
        Path f = write(SpecBytes.paddedFile("{" + entry("a", "U8", "[1]", 0, 1) + "}", bytes(1)));
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> st.tensor("missing"));
            assertEquals(f + ": no tensor named 'missing' (the file holds 1 tensors, e.g. 'a')", e.getMessage());
        }
    }

    @Test
    void rejectsSliceOutsideTheTensor() throws IOException {
        Path f = write(SpecBytes.paddedFile("{" + entry("a", "U8", "[4]", 0, 4) + "}", bytes(1, 2, 3, 4)));
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> st.slice("a", 2, 3));
            assertTrue(e.getMessage().contains("slice [2, 2 + 3) is outside tensor 'a' (4 bytes)"), e.getMessage());
        }
    }

    @Test
    void rejectsFileShorterThanEightBytes() throws IOException {
        rejects(bytes(1, 0, 0), "file is 3 bytes, shorter than the 8-byte header length");
    }

    @Test
    void rejectsHeaderLengthOfTwoToThe62() throws IOException {
        rejects(
                SpecBytes.file(1L << 62, "{}".getBytes(StandardCharsets.UTF_8), new byte[0]),
                "header length 4611686018427387904 exceeds the 100000000-byte cap");
    }

    @Test
    void rejectsHeaderLengthWithTheTopBitSetAsUnsigned() throws IOException {
        rejects(
                SpecBytes.file(-1L, "{}".getBytes(StandardCharsets.UTF_8), new byte[0]),
                "header length 18446744073709551615 exceeds");
    }

    @Test
    void rejectsHeaderLengthBeyondFileSize() throws IOException {
        rejects(
                SpecBytes.file(1000, "{}".getBytes(StandardCharsets.UTF_8), new byte[0]),
                "header length 1000 exceeds the 2 bytes that follow it");
    }

    @Test
    void rejectsBadJson() throws IOException {
        rejects(SpecBytes.paddedFile("{\"a\":{\"dtype\":\"F32\",", new byte[0]), "header is not valid JSON");
    }

    @Test
    void rejectsHeaderThatIsNotAJsonObject() throws IOException {
        rejects(SpecBytes.paddedFile("[1,2]", new byte[0]), "header must be a JSON object, found array");
    }

    @Test
    void rejectsTrailingGarbageAfterTheHeaderObject() throws IOException {
        rejects(SpecBytes.paddedFile("{} {}", new byte[0]), "header is not valid JSON");
    }

    @Test
    void rejectsHeaderThatIsNotUtf8() throws IOException {
        byte[] header = "{\"\u00e9\":1}".getBytes(StandardCharsets.ISO_8859_1);
        rejects(SpecBytes.file(header.length, header, new byte[0]), "header is not valid UTF-8");
    }

    @Test
    void rejectsOverlappingOffsets() throws IOException {
        String header = "{" + entry("a", "U8", "[4]", 0, 4) + "," + entry("b", "U8", "[4]", 2, 6) + "}";
        rejects(SpecBytes.paddedFile(header, zeros(6)), "tensor 'b' bytes [2, 6) overlap tensor 'a' bytes [0, 4)");
    }

    @Test
    void rejectsGapBetweenOffsets() throws IOException {
        String header = "{" + entry("a", "U8", "[4]", 0, 4) + "," + entry("b", "U8", "[4]", 6, 10) + "}";
        rejects(
                SpecBytes.paddedFile(header, zeros(10)),
                "gap in the data buffer: bytes [4, 6) before tensor 'b' belong to no tensor");
    }

    @Test
    void rejectsBufferThatDoesNotStartAtOffsetZero() throws IOException {
        String header = "{" + entry("a", "U8", "[4]", 4, 8) + "}";
        rejects(SpecBytes.paddedFile(header, zeros(8)), "gap in the data buffer: bytes [0, 4) before tensor 'a'");
    }

    @Test
    void rejectsOffsetsBeyondTheDataBuffer() throws IOException {
        String header = "{" + entry("a", "U8", "[4]", 0, 4) + "," + entry("b", "F32", "[1024]", 4, 4100) + "}";
        rejects(
                SpecBytes.paddedFile(header, zeros(8)),
                "tensor 'b' data_offsets [4, 4100] extend past the end of the data buffer (8 bytes)");
    }

    @Test
    void rejectsByteSizeNotEqualToNumelTimesDtypeSize() throws IOException {
        String header = "{" + entry("w", "F32", "[2,3]", 0, 20) + "}";
        rejects(
                SpecBytes.paddedFile(header, zeros(20)),
                "tensor 'w': data_offsets [0, 20] span 20 bytes but F32[2, 3] needs 24 (numel * dtype size)");
    }

    @Test
    void rejectsEndBeforeBegin() throws IOException {
        String header = "{" + entry("w", "U8", "[0]", 4, 2) + "}";
        rejects(
                SpecBytes.paddedFile(header, zeros(4)),
                "tensor 'w': data_offsets [4, 2] must satisfy 0 <= begin <= end");
    }

    @Test
    void rejectsTruncatedData() throws IOException {
        String header = "{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 8, 16) + "}";
        byte[] whole = SpecBytes.paddedFile(header, zeros(16));
        byte[] truncated = java.util.Arrays.copyOf(whole, whole.length - 3);
        rejects(
                truncated,
                "tensor 'b' data_offsets [8, 16] extend past the end of the data buffer (13 bytes): "
                        + "file truncated or offsets wrong");
    }

    @Test
    void rejectsTrailingBytesAfterTheLastTensor() throws IOException {
        String header = "{" + entry("a", "U8", "[2]", 0, 2) + "}";
        rejects(
                SpecBytes.paddedFile(header, zeros(5)),
                "data buffer holds 5 bytes but the tensors cover 2: 3 trailing bytes belong to no tensor");
    }

    @Test
    void rejectsDuplicateTensorNames() throws IOException {
        String header = "{" + entry("a", "U8", "[2]", 0, 2) + "," + entry("a", "U8", "[2]", 2, 4) + "}";
        rejects(SpecBytes.paddedFile(header, zeros(4)), "duplicate tensor name 'a' in header");
    }

    @Test
    void rejectsDuplicateKeyInsideATensorEntry() throws IOException {
        String header = "{\"a\":{\"dtype\":\"U8\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,1]}}";
        rejects(SpecBytes.paddedFile(header, zeros(1)), "duplicate key 'dtype' in header");
    }

    @Test
    void rejectsUnknownDtype() throws IOException {
        String header = "{" + entry("q", "F8_E4M3", "[2]", 0, 2) + "}";
        rejects(SpecBytes.paddedFile(header, zeros(2)), "tensor 'q': unsupported safetensors dtype 'F8_E4M3'");
    }

    @Test
    void rejectsNegativeDimension() throws IOException {
        String header = "{" + entry("n", "U8", "[2,-1]", 0, 0) + "}";
        rejects(SpecBytes.paddedFile(header, zeros(0)), "tensor 'n': negative dimension in shape [2, -1]");
    }

    @Test
    void rejectsShapeWhoseByteSizeOverflows() throws IOException {
        String header = "{" + entry("o", "F64", "[4294967296,4294967296]", 0, 8) + "}";
        rejects(
                SpecBytes.paddedFile(header, zeros(8)),
                "tensor 'o': shape [4294967296, 4294967296] of F64 overflows a 64-bit byte count");
    }

    @Test
    void rejectsShapeElementBeyondSixtyFourBits() throws IOException {
        String header = "{" + entry("o", "U8", "[99999999999999999999]", 0, 8) + "}";
        rejects(
                SpecBytes.paddedFile(header, zeros(8)),
                "\"shape\" element 99999999999999999999 is not a 64-bit integer");
    }

    @Test
    void rejectsMissingDataOffsets() throws IOException {
        rejects(
                SpecBytes.paddedFile("{\"a\":{\"dtype\":\"U8\",\"shape\":[1]}}", zeros(1)),
                "tensor 'a': \"data_offsets\" must be an array of 2 integers, found null");
    }

    @Test
    void rejectsNonStringMetadataValue() throws IOException {
        rejects(
                SpecBytes.paddedFile("{\"__metadata__\":{\"epoch\":3}}", zeros(0)),
                "__metadata__ value of 'epoch' must be a string, found 3");
    }
}
