package io.sparkformers.safetensors;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reader for one {@code .safetensors} file, following the format spec of the Hugging Face {@code safetensors}
 * library: an 8-byte little-endian unsigned header length N, N bytes of UTF-8 JSON header (possibly padded with
 * trailing spaces), then the data buffer. Header entries are
 * {@code "name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}} with offsets relative to the start of
 * the data buffer, plus an optional {@code "__metadata__"} object of string to string.
 *
 * <p>{@link #open} validates the whole header up front, with the same rules as the reference implementation and a
 * few more: header length at most 100,000,000 bytes (the reference's cap) and within the file; strict UTF-8 and JSON;
 * no duplicate keys (the reference silently keeps the last one); known dtypes; non-negative shapes whose byte size
 * fits in 64 bits; {@code end - begin == numel * dtype size}; offsets sorted, contiguous from 0, no gaps or overlaps,
 * and covering the data buffer exactly (so a truncated file or trailing junk is refused). Unknown keys inside a tensor
 * entry are ignored, as the reference does.
 *
 * <p>Tensor bytes are never read onto the heap: {@link #tensor} memory-maps just that tensor's range, so files far
 * beyond 2 GiB work; only a single tensor is limited to {@link Integer#MAX_VALUE} bytes (a {@link ByteBuffer}'s
 * limit), and {@link #slice} reads any range of a larger one. Mapped buffers stay valid after {@link #close()}.
 * Instances are immutable after opening and safe to share between threads.
 */
public final class SafetensorsFile implements AutoCloseable {

    /** Largest header accepted, as in the reference implementation ({@code MAX_HEADER_SIZE}). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    static final String METADATA_KEY = "__metadata__";

    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final Path file;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors; // sorted by name
    private final Map<String, String> metadata;

    private SafetensorsFile(
            Path file,
            FileChannel channel,
            long dataStart,
            Map<String, TensorInfo> tensors,
            Map<String, String> metadata) {
        this.file = file;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /**
     * Opens and validates {@code file}; the header is read, the data is not.
     *
     * @throws SafetensorsException if the file breaks the format (the message names the file and the problem)
     * @throws IOException          if the file cannot be read
     */
    public static SafetensorsFile open(Path file) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        try {
            long size = ch.size();
            if (size < 8) {
                throw new SafetensorsException(
                        file,
                        "file is " + size
                                + " bytes, shorter than the 8-byte header length that starts every safetensors file");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, file);
            long headerLen = lenBuf.getLong(0);
            // The length is unsigned: compare as unsigned so 2^63 and above is "too large", not negative.
            if (Long.compareUnsigned(headerLen, MAX_HEADER_BYTES) > 0) {
                throw new SafetensorsException(
                        file,
                        "header length " + Long.toUnsignedString(headerLen) + " exceeds the " + MAX_HEADER_BYTES
                                + "-byte cap (not a safetensors file, or corrupt)");
            }
            if (headerLen > size - 8) {
                throw new SafetensorsException(
                        file,
                        "header length " + headerLen + " exceeds the " + (size - 8)
                                + " bytes that follow it (file truncated, or not a safetensors file)");
            }
            ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
            readFully(ch, headerBuf, 8, file);
            long dataStart = 8 + headerLen;
            Header h = parseHeader(file, headerBuf.flip(), size - dataStart);
            return new SafetensorsFile(file, ch, dataStart, h.tensors, h.metadata);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path file) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, position + buf.position());
            if (n < 0) throw new SafetensorsException(file, "unexpected end of file while reading the header");
        }
    }

    private record Header(Map<String, TensorInfo> tensors, Map<String, String> metadata) {}

    private static Header parseHeader(Path file, ByteBuffer bytes, long dataLength) throws SafetensorsException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(bytes).toString();
        } catch (CharacterCodingException e) {
            throw new SafetensorsException(file, "header is not valid UTF-8", e);
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonParseException e) {
            if (e.getOriginalMessage().startsWith("Duplicate field")) throw duplicate(file, e);
            throw new SafetensorsException(file, "header is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (JsonProcessingException e) {
            throw new SafetensorsException(file, "header is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new SafetensorsException(
                    file,
                    "header must be a JSON object, found "
                            + (root == null
                                    ? "nothing"
                                    : root.getNodeType().toString().toLowerCase()));
        }

        Map<String, String> metadata = Map.of();
        List<TensorInfo> infos = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            if (e.getKey().equals(METADATA_KEY)) {
                metadata = parseMetadata(file, e.getValue());
            } else {
                infos.add(parseEntry(file, e.getKey(), e.getValue()));
            }
        }
        checkLayout(file, infos, dataLength);

        Map<String, TensorInfo> byName = new TreeMap<>();
        for (TensorInfo i : infos) byName.put(i.name(), i);
        return new Header(Collections.unmodifiableMap(byName), metadata);
    }

    private static SafetensorsException duplicate(Path file, JsonParseException e) {
        // Jackson reports the duplicate while the parser is inside the object that holds it: a top-level object
        // (whose parent is the root context) means a tensor name occurs twice.
        JsonParser p = e.getProcessor();
        boolean topLevel = p != null
                && p.getParsingContext() != null
                && p.getParsingContext().getParent() != null
                && p.getParsingContext().getParent().inRoot();
        String key = e.getOriginalMessage().replaceFirst("^Duplicate field ", "");
        return new SafetensorsException(
                file,
                (topLevel ? "duplicate tensor name " : "duplicate key ") + key
                        + " in header (the JSON would silently keep only the last one)",
                e);
    }

    private static Map<String, String> parseMetadata(Path file, JsonNode node) throws SafetensorsException {
        if (!node.isObject()) {
            throw new SafetensorsException(file, METADATA_KEY + " must be an object of strings, found " + node);
        }
        Map<String, String> m = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) {
                throw new SafetensorsException(
                        file, METADATA_KEY + " value of '" + e.getKey() + "' must be a string, found " + e.getValue());
            }
            m.put(e.getKey(), e.getValue().textValue());
        }
        return Collections.unmodifiableMap(m);
    }

    private static TensorInfo parseEntry(Path file, String name, JsonNode node) throws SafetensorsException {
        if (!node.isObject()) {
            throw new SafetensorsException(file, "tensor '" + name + "': entry must be an object, found " + node);
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new SafetensorsException(file, "tensor '" + name + "': missing or non-string \"dtype\"");
        }
        DType dtype;
        try {
            dtype = DType.fromHeaderName(dtypeNode.textValue());
        } catch (IllegalArgumentException e) {
            throw new SafetensorsException(file, "tensor '" + name + "': " + e.getMessage());
        }
        long[] shape = longArray(file, name, "shape", node.get("shape"), -1);
        for (long d : shape) {
            if (d < 0) {
                throw new SafetensorsException(
                        file, "tensor '" + name + "': negative dimension in shape " + Arrays.toString(shape));
            }
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(Tensor.numel(shape), dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new SafetensorsException(
                    file,
                    "tensor '" + name + "': shape " + Arrays.toString(shape) + " of " + dtype
                            + " overflows a 64-bit byte count");
        }
        long[] offsets = longArray(file, name, "data_offsets", node.get("data_offsets"), 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (begin < 0 || end < begin) {
            throw new SafetensorsException(
                    file,
                    "tensor '" + name + "': data_offsets " + Arrays.toString(offsets)
                            + " must satisfy 0 <= begin <= end");
        }
        if (end - begin != bytes) {
            throw new SafetensorsException(
                    file,
                    "tensor '" + name + "': data_offsets " + Arrays.toString(offsets)
                            + " span " + (end - begin) + " bytes but " + dtype + Arrays.toString(shape) + " needs "
                            + bytes + " (numel * dtype size)");
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    /** A JSON array of 64-bit integers (signs checked by the caller); {@code length} -1 accepts any length. */
    private static long[] longArray(Path file, String name, String key, JsonNode node, int length)
            throws SafetensorsException {
        if (node == null || !node.isArray() || (length >= 0 && node.size() != length)) {
            throw new SafetensorsException(
                    file,
                    "tensor '" + name + "': \"" + key + "\" must be an array of " + (length >= 0 ? length + " " : "")
                            + "integers, found " + node);
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong()) {
                throw new SafetensorsException(
                        file, "tensor '" + name + "': \"" + key + "\" element " + v + " is not a 64-bit integer");
            }
            out[i] = v.longValue();
        }
        return out;
    }

    /** The data buffer must be tiled exactly: sorted, contiguous from 0, no gaps, no overlaps, nothing after. */
    private static void checkLayout(Path file, List<TensorInfo> infos, long dataLength) throws SafetensorsException {
        List<TensorInfo> sorted = new ArrayList<>(infos);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin)
                .thenComparingLong(TensorInfo::end)
                .thenComparing(TensorInfo::name));
        long expected = 0;
        TensorInfo previous = null;
        for (TensorInfo t : sorted) {
            if (t.begin() < expected) {
                throw new SafetensorsException(
                        file,
                        "tensor '" + t.name() + "' bytes [" + t.begin() + ", "
                                + t.end() + ") overlap tensor '" + previous.name() + "' bytes [" + previous.begin()
                                + ", "
                                + previous.end() + ")");
            }
            if (t.begin() > expected) {
                throw new SafetensorsException(
                        file,
                        "gap in the data buffer: bytes [" + expected + ", " + t.begin() + ") before tensor '" + t.name()
                                + "' belong to no tensor");
            }
            if (t.end() > dataLength) {
                throw new SafetensorsException(
                        file,
                        "tensor '" + t.name() + "' data_offsets [" + t.begin() + ", "
                                + t.end() + "] extend past the end of the data buffer (" + dataLength
                                + " bytes): file truncated or offsets wrong");
            }
            expected = t.end();
            previous = t;
        }
        if (expected != dataLength) {
            throw new SafetensorsException(
                    file,
                    "data buffer holds " + dataLength + " bytes but the tensors cover " + expected + ": "
                            + (dataLength - expected) + " trailing bytes belong to no tensor");
        }
    }

    /** The file this reader reads. */
    public Path file() {
        return file;
    }

    /** Tensor names, sorted (as Python's {@code safe_open(...).keys()} returns them); unmodifiable. */
    public Set<String> names() {
        return tensors.keySet();
    }

    /** True if the file holds a tensor named {@code name}. */
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** The header's {@code __metadata__} (empty if absent); unmodifiable, in header order. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Header entry of tensor {@code name}. */
    public TensorInfo info(String name) throws SafetensorsException {
        TensorInfo i = tensors.get(name);
        if (i == null) {
            throw new SafetensorsException(
                    file,
                    "no tensor named '" + name + "' (the file holds " + tensors.size()
                            + " tensors"
                            + (tensors.isEmpty()
                                    ? ""
                                    : ", e.g. '" + tensors.keySet().iterator().next() + "'")
                            + ")");
        }
        return i;
    }

    /**
     * Tensor {@code name}, its buffer a read-only memory-mapped slice of just that tensor's bytes.
     *
     * @throws SafetensorsException if there is no such tensor, or it is larger than 2 GiB - 1 bytes
     */
    public Tensor tensor(String name) throws IOException {
        TensorInfo i = info(name);
        if (i.byteLength() > Integer.MAX_VALUE) {
            throw new SafetensorsException(
                    file,
                    "tensor '" + name + "' is " + i.byteLength()
                            + " bytes, more than a single buffer holds (" + Integer.MAX_VALUE
                            + "); read it in parts with slice(name, offset, length)");
        }
        return new Tensor(i.dtype(), i.shape(), map(dataStart + i.begin(), i.byteLength()));
    }

    /**
     * {@code length} bytes of tensor {@code name} starting {@code offset} bytes into it, memory-mapped, read-only,
     * little-endian. Works for tensors of any size.
     */
    public ByteBuffer slice(String name, long offset, int length) throws IOException {
        TensorInfo i = info(name);
        if (offset < 0 || length < 0 || offset > i.byteLength() - length) {
            throw new SafetensorsException(
                    file,
                    "slice [" + offset + ", " + offset + " + " + length + ") is outside tensor '" + name + "' ("
                            + i.byteLength() + " bytes)");
        }
        return map(dataStart + i.begin() + offset, length);
    }

    /** Every tensor, by name in {@link #names()} order; each buffer is its own mapping. */
    public Map<String, Tensor> readAll() throws IOException {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String n : tensors.keySet()) out.put(n, tensor(n));
        return out;
    }

    private ByteBuffer map(long position, long length) throws IOException {
        // One mapping per tensor keeps every mapping below 2 GiB however large the file is.
        return channel.map(FileChannel.MapMode.READ_ONLY, position, length).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Closes the file; buffers already returned stay readable until they are garbage collected. */
    @Override
    public void close() throws IOException {
        channel.close();
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + file + ", " + tensors.size() + " tensors]";
    }
}
