package io.sparkformers.safetensors;

import static io.sparkformers.safetensors.SpecBytes.bytes;
import static io.sparkformers.safetensors.SpecBytes.entry;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Writer round trips, the header layout it produces, and the float conversions of half-precision tensors. */
class SafetensorsWriterTest {

    @TempDir
    Path dir;

    private static Tensor tensor(DType dtype, byte[] raw, long... shape) {
        return new Tensor(dtype, shape, ByteBuffer.wrap(raw));
    }

    private static Tensor shorts(DType dtype, int... bits) {
        ByteBuffer b = ByteBuffer.allocate(bits.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : bits) b.putShort((short) v);
        return new Tensor(dtype, new long[] {bits.length}, b.flip());
    }

    private Map<String, Tensor> roundTrip(Map<String, Tensor> tensors, Map<String, String> metadata)
            throws IOException {
        Path f = dir.resolve("rt.safetensors");
        SafetensorsWriter.write(f, tensors, metadata);
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertEquals(metadata == null ? Map.of() : metadata, st.metadata());
            return st.readAll();
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void roundTripsEveryDtype(DType dtype) throws IOException {
        byte[] raw = new byte[2 * 3 * dtype.byteSize()];
        new Random(dtype.ordinal()).nextBytes(raw);
        if (dtype == DType.BOOL) for (int i = 0; i < raw.length; i++) raw[i] &= 1;
        Tensor t = tensor(dtype, raw, 2, 3);
        Map<String, Tensor> back = roundTrip(Map.of("t", t), null);
        assertEquals(t, back.get("t"));
        byte[] read = new byte[raw.length];
        back.get("t").data().get(read);
        assertArrayEquals(raw, read);
    }

    @Test
    void f16BitPatternsDecodeToHandComputedFloats() throws IOException {
        Tensor t = shorts(
                DType.F16, 0x3C00, 0xC000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x7BFF, 0x7C00, 0xFC00, 0x7E00, 0x8000,
                0x3555);
        float[] expected = {
            1.0f,
            -2.0f,
            0x1p-24f,
            -0x1p-24f,
            1023 * 0x1p-24f,
            0x1p-14f,
            65504f,
            Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY,
            Float.NaN,
            -0.0f,
            0x1.554p-2f
        };
        assertArrayEquals(expected, roundTrip(Map.of("h", t), null).get("h").toFloatArray());
    }

    @Test
    void bf16BitPatternsDecodeToHandComputedFloats() throws IOException {
        Tensor t = shorts(DType.BF16, 0x3F80, 0xC000, 0x4049, 0x0001, 0x7F7F, 0x7F80, 0xFF80, 0x7FC0, 0x8000);
        float[] expected = {
            1.0f,
            -2.0f,
            3.140625f,
            0x1p-133f,
            0x1.fep127f,
            Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY,
            Float.NaN,
            -0.0f
        };
        assertArrayEquals(expected, roundTrip(Map.of("b", t), null).get("b").toFloatArray());
    }

    @Test
    void f64ValuesAreRoundedToFloat() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putDouble(0.1)
                .putDouble(-1e300);
        Tensor t = new Tensor(DType.F64, new long[] {2}, b.flip());
        assertArrayEquals(
                new float[] {0.1f, Float.NEGATIVE_INFINITY},
                roundTrip(Map.of("d", t), null).get("d").toFloatArray());
    }

    @Test
    void toLongArrayWidensIntegerTypes() throws IOException {
        Map<String, Tensor> back = roundTrip(
                Map.of(
                        "i8", tensor(DType.I8, bytes(0xFF, 0x7F), 2),
                        "u8", tensor(DType.U8, bytes(0xFF, 0x7F), 2),
                        "bool", tensor(DType.BOOL, bytes(1, 0), 2),
                        "i16", tensor(DType.I16, bytes(0xFE, 0xFF), 1),
                        "i32", tensor(DType.I32, bytes(0x00, 0x00, 0x00, 0x80), 1),
                        "i64", Tensor.ofLongs(new long[] {Long.MIN_VALUE, 42}, 2)),
                null);
        assertArrayEquals(new long[] {-1, 127}, back.get("i8").toLongArray());
        assertArrayEquals(new long[] {255, 127}, back.get("u8").toLongArray());
        assertArrayEquals(new long[] {1, 0}, back.get("bool").toLongArray());
        assertArrayEquals(new long[] {-2}, back.get("i16").toLongArray());
        assertArrayEquals(new long[] {Integer.MIN_VALUE}, back.get("i32").toLongArray());
        assertArrayEquals(new long[] {Long.MIN_VALUE, 42}, back.get("i64").toLongArray());
    }

    @Test
    void roundTripsScalarAndZeroElementTensors() throws IOException {
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("a_scalar", Tensor.ofFloats(new float[] {3.25f}));
        in.put("b_empty", Tensor.ofFloats(new float[0], 0, 4));
        in.put("c_after", Tensor.ofLongs(new long[] {5}, 1));
        Path f = dir.resolve("s.safetensors");
        SafetensorsWriter.write(f, in, Map.of());
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertEquals(new TensorInfo("a_scalar", DType.F32, new long[0], 0, 4), st.info("a_scalar"));
            assertEquals(new TensorInfo("b_empty", DType.F32, new long[] {0, 4}, 4, 4), st.info("b_empty"));
            assertEquals(new TensorInfo("c_after", DType.I64, new long[] {1}, 4, 12), st.info("c_after"));
            assertEquals(in, st.readAll());
            assertArrayEquals(new float[] {3.25f}, st.tensor("a_scalar").toFloatArray());
            assertEquals(0, st.tensor("b_empty").numel());
        }
    }

    @Test
    void roundTripsMetadata() throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("note", "quotes \" backslash \\ newline \n unicode \u00e9\u4e2d");
        meta.put("empty", "");
        Map<String, Tensor> back = roundTrip(Map.of("x", Tensor.ofFloats(new float[] {1}, 1)), meta);
        assertEquals(1, back.size());
    }

    @Test
    void omitsMetadataKeyWhenThereIsNoMetadata() throws IOException {
        Path f = dir.resolve("n.safetensors");
        SafetensorsWriter.write(f, Map.of("x", Tensor.ofFloats(new float[] {1}, 1)), Map.of());
        assertFalse(
                new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.UTF_8).contains("__metadata__"));
    }

    @Test
    void padsHeaderWithSpacesToAMultipleOfEight() throws IOException {
        for (int len = 1; len <= 16; len++) {
            Path f = dir.resolve("p" + len + ".safetensors");
            SafetensorsWriter.write(f, Map.of("n".repeat(len), Tensor.ofFloats(new float[] {1}, 1)), null);
            byte[] all = Files.readAllBytes(f);
            long headerLen =
                    ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(0, headerLen % 8, "header length " + headerLen + " for a name of " + len);
            assertEquals(8 + headerLen + 4, all.length);
            String header = new String(all, 8, (int) headerLen, java.nio.charset.StandardCharsets.UTF_8);
            String trimmed = header.stripTrailing();
            assertTrue(trimmed.endsWith("}"));
            assertTrue(header.substring(trimmed.length()).chars().allMatch(c -> c == ' '));
            assertTrue(header.length() - trimmed.length() < 8);
        }
    }

    @Test
    void writesExactlyTheBytesTheSpecDescribes() throws IOException {
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("w", Tensor.ofFloats(new float[] {1.5f, -2.0f}, 2));
        in.put("b", Tensor.ofLongs(new long[] {7}));
        Path f = dir.resolve("exact.safetensors");
        SafetensorsWriter.write(f, in, Map.of("format", "pt"));
        // names sorted: b first in the data buffer
        byte[] expected = SpecBytes.paddedFile(
                "{\"__metadata__\":{\"format\":\"pt\"}," + entry("b", "I64", "[]", 0, 8) + ","
                        + entry("w", "F32", "[2]", 8, 16) + "}",
                bytes(0x07, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0xC0, 0x3F, 0x00, 0x00, 0x00, 0xC0));
        assertArrayEquals(expected, Files.readAllBytes(f));
    }

    @Test
    void replacesAnExistingFileAndLeavesNoTemporaryFiles() throws IOException {
        Path f = dir.resolve("model.safetensors");
        SafetensorsWriter.write(f, Map.of("a", Tensor.ofFloats(new float[] {1}, 1)), null);
        SafetensorsWriter.write(f, Map.of("b", Tensor.ofFloats(new float[] {2, 3}, 2)), null);
        try (var files = Files.list(dir)) {
            assertEquals(List.of(f), files.toList());
        }
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertEquals(Set.of("b"), st.names());
        }
    }

    @Test
    void writtenFileHasDefaultPermissionsNotOwnerOnly() throws IOException {
        Path f = dir.resolve("perm.safetensors");
        SafetensorsWriter.write(f, Map.of("a", Tensor.ofFloats(new float[] {1}, 1)), null);
        Path plain = Files.createFile(dir.resolve("plain"));
        Set<PosixFilePermission> expected = Files.getPosixFilePermissions(plain);
        assertEquals(expected, Files.getPosixFilePermissions(f));
    }

    @Test
    void rejectsTensorNamedLikeTheMetadataKey() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> SafetensorsWriter.write(
                        dir.resolve("x.safetensors"),
                        Map.of("__metadata__", Tensor.ofFloats(new float[] {1}, 1)),
                        null));
        assertEquals("'__metadata__' is reserved by the safetensors header and cannot name a tensor", e.getMessage());
    }

    @Test
    void streamsMemoryMappedTensorsIntoANewFile() throws IOException {
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        SafetensorsWriter.write(a, Map.of("x", Tensor.ofFloats(new float[] {1, 2, 3}, 3)), Map.of("k", "v"));
        try (SafetensorsFile st = SafetensorsFile.open(a)) {
            SafetensorsWriter.write(b, st.readAll(), st.metadata());
        }
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
    }
}
