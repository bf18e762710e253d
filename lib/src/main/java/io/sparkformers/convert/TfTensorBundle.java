package io.sparkformers.convert;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import io.sparkformers.safetensors.DType;
import io.sparkformers.safetensors.Tensor;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * Reader of TensorFlow's tensor bundle, the {@code variables/} folder of a SavedModel or a TF2 checkpoint:
 * {@code <prefix>.index} is a LevelDB-format SSTable (TF {@code core/lib/io/table_format.txt}) mapping each
 * variable name to a {@code BundleEntryProto} ({@code core/protobuf/tensor_bundle.proto}), and
 * {@code <prefix>.data-NNNNN-of-MMMMM} hold the raw little-endian tensor bytes. Uncompressed tables only, whole
 * (unsliced) float32 / int32 / int64 tensors only; block and tensor checksums are verified.
 */
public final class TfTensorBundle implements Closeable {

    /** TF {@code DataType} codes this reader supports. */
    static final int DT_FLOAT = 1, DT_INT32 = 3, DT_INT64 = 9;

    private static final long TABLE_MAGIC = 0xdb4775248b80fb57L;
    private static final int FOOTER_LENGTH = 48;
    private static final int BLOCK_TRAILER_LENGTH = 5;

    /**
     * One variable's index entry.
     *
     * @param name    the TF variable name, e.g. {@code bert/encoder/layer_0/attention/self/query/kernel}
     * @param dtype   TF {@code DataType} code (1 float, 3 int32, 9 int64)
     * @param shape   dimensions, outermost first
     * @param shardId which data file holds it
     * @param offset  byte offset within that file
     * @param size    byte length
     * @param crc32c  masked CRC-32C of the bytes, as TF stores it
     */
    public record Entry(String name, int dtype, long[] shape, int shardId, long offset, long size, int crc32c) {
        @Override
        public long[] shape() {
            return shape.clone();
        }
    }

    /**
     * Where one data shard's bytes lie: a file, or a region of one (a STORED entry inside a zip).
     *
     * @param file   the file
     * @param offset where the shard starts in it
     * @param length the shard's byte length
     */
    public record DataShard(Path file, long offset, long length) {}

    private final String source;
    private final Map<String, Entry> entries;
    private final List<DataShard> shards;
    private final List<FileChannel> channels = new ArrayList<>();

    private TfTensorBundle(String source, Map<String, Entry> entries, List<DataShard> shards) throws IOException {
        this.source = source;
        this.entries = Collections.unmodifiableMap(entries);
        this.shards = List.copyOf(shards);
        for (DataShard s : shards) channels.add(FileChannel.open(s.file(), StandardOpenOption.READ));
    }

    /**
     * Opens the bundle at {@code prefix}, e.g. {@code saved_model_dir/variables/variables}: reads
     * {@code prefix.index} and finds the data files next to it.
     */
    public static TfTensorBundle open(Path prefix) throws IOException {
        Path index = prefix.resolveSibling(prefix.getFileName() + ".index");
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(index));
        int numShards = readHeader(parseIndex(bytes, index.toString()), index.toString());
        List<DataShard> shards = new ArrayList<>();
        for (int i = 0; i < numShards; i++) {
            Path data =
                    prefix.resolveSibling(String.format("%s.data-%05d-of-%05d", prefix.getFileName(), i, numShards));
            shards.add(new DataShard(data, 0, Files.size(data)));
        }
        return open(bytes, shards, index.toString());
    }

    /**
     * Opens a bundle from the bytes of its index and the locations of its data shards (in shard order).
     *
     * @param source names the bundle in error messages
     */
    public static TfTensorBundle open(ByteBuffer index, List<DataShard> shards, String source) throws IOException {
        Map<String, ByteBuffer> raw = parseIndex(index, source);
        int numShards = readHeader(raw, source);
        if (numShards != shards.size()) {
            throw new IllegalArgumentException(source + ": the bundle header says " + numShards + " data shards, "
                    + shards.size() + " were given");
        }
        Map<String, Entry> entries = new TreeMap<>();
        for (Map.Entry<String, ByteBuffer> e : raw.entrySet()) {
            if (e.getKey().isEmpty()) continue; // "" is the BundleHeaderProto
            Entry entry = parseEntry(e.getKey(), e.getValue(), source);
            if (entry.shardId() < 0
                    || entry.shardId() >= shards.size()
                    || entry.offset() < 0
                    || entry.size() < 0
                    || entry.offset() > shards.get(entry.shardId()).length() - entry.size()) {
                throw new IllegalArgumentException(source + ": '" + entry.name() + "' lies outside its data shard "
                        + entry.shardId() + " (offset " + entry.offset() + ", size " + entry.size() + ")");
            }
            entries.put(entry.name(), entry);
        }
        return new TfTensorBundle(source, entries, shards);
    }

    /** Variables by name, sorted. */
    public Map<String, Entry> entries() {
        return entries;
    }

    /**
     * The tensor named {@code name}, read-only and backed by a mapping of its data file region (not on the heap);
     * its checksum is verified.
     */
    public Tensor tensor(String name) throws IOException {
        Entry e = entries.get(name);
        if (e == null) throw new IllegalArgumentException(source + ": no variable '" + name + "'");
        DType dtype = switch (e.dtype()) {
            case DT_FLOAT -> DType.F32;
            case DT_INT32 -> DType.I32;
            case DT_INT64 -> DType.I64;
            default ->
                throw new IllegalArgumentException(source + ": '" + name + "' has unsupported TF dtype " + e.dtype()
                        + " (supported: 1 DT_FLOAT, 3 DT_INT32, 9 DT_INT64)");
        };
        long expected = byteSize(e.shape(), dtype);
        if (e.size() != expected) {
            throw new IllegalArgumentException(source + ": '" + name + "' " + dtype + Arrays.toString(e.shape())
                    + " needs " + expected + " bytes but its entry says " + e.size());
        }
        DataShard shard = shards.get(e.shardId());
        ByteBuffer data = channels.get(e.shardId())
                .map(FileChannel.MapMode.READ_ONLY, shard.offset() + e.offset(), e.size())
                .order(ByteOrder.LITTLE_ENDIAN);
        CRC32C crc = new CRC32C();
        crc.update(data.duplicate());
        if (mask((int) crc.getValue()) != e.crc32c()) {
            throw new IllegalStateException(source + ": checksum mismatch for '" + name + "' in data shard "
                    + shard.file() + ": the file is corrupt or not this bundle's");
        }
        return new Tensor(dtype, e.shape(), data);
    }

    /** Bytes of a tensor of this shape, or -1 when a dimension is negative or the count overflows 64 bits. */
    private static long byteSize(long[] shape, DType dtype) {
        long n = dtype.byteSize();
        for (long d : shape) {
            if (d < 0 || (d > 0 && n > Long.MAX_VALUE / d)) return -1;
            n *= d;
        }
        return n;
    }

    /** LevelDB's CRC mask, which TF applies to stored checksums. */
    static int mask(int crc) {
        return ((crc >>> 15) | (crc << 17)) + 0xa282ead8;
    }

    @Override
    public void close() throws IOException {
        for (FileChannel c : channels) c.close();
    }

    /** All key/value pairs of the SSTable, keys as UTF-8 strings, values as views of {@code table}. */
    static Map<String, ByteBuffer> parseIndex(ByteBuffer table, String source) {
        ByteBuffer t = table.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int n = t.limit();
        if (n < FOOTER_LENGTH || t.getLong(n - 8) != TABLE_MAGIC) {
            throw new IllegalArgumentException(
                    source + ": not a TF bundle index (no SSTable magic in the last 8 bytes)");
        }
        try {
            // footer: metaindex handle, index handle (varint64 offset, varint64 size each), padding, magic
            CodedInputStream footer = CodedInputStream.newInstance(t.slice(n - FOOTER_LENGTH, FOOTER_LENGTH));
            footer.readRawVarint64(); // metaindex offset: bundles have no meta blocks
            footer.readRawVarint64();
            long indexOffset = footer.readRawVarint64(), indexSize = footer.readRawVarint64();
            Map<String, ByteBuffer> out = new TreeMap<>();
            for (Map.Entry<String, ByteBuffer> handle :
                    block(t, indexOffset, indexSize, source).entrySet()) {
                CodedInputStream h =
                        CodedInputStream.newInstance(handle.getValue().duplicate());
                long off = h.readRawVarint64(), size = h.readRawVarint64();
                out.putAll(block(t, off, size, source));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(source + ": malformed SSTable: " + e.getMessage(), e);
        }
    }

    /** Decodes one block: prefix-compressed entries, then the restart array and its count. */
    private static Map<String, ByteBuffer> block(ByteBuffer t, long offset, long size, String source)
            throws IOException {
        if (offset < 0 || size < 4 || offset > t.limit() - BLOCK_TRAILER_LENGTH - size) {
            throw new IllegalArgumentException(
                    source + ": block handle (" + offset + ", " + size + ") outside the file");
        }
        int off = (int) offset, len = (int) size;
        int compression = t.get(off + len) & 0xff;
        if (compression != 0) {
            throw new IllegalArgumentException(source + ": block at " + offset + " is compressed (type " + compression
                    + (compression == 1 ? ", snappy" : "") + "); only uncompressed bundle indexes are supported");
        }
        CRC32C crc = new CRC32C();
        crc.update(t.slice(off, len + 1)); // the checksum covers the block and its type byte
        if (mask((int) crc.getValue()) != t.getInt(off + len + 1)) {
            throw new IllegalArgumentException(source + ": checksum mismatch in block at " + offset);
        }
        ByteBuffer b = t.slice(off, len).order(ByteOrder.LITTLE_ENDIAN);
        int numRestarts = b.getInt(len - 4);
        long end = len - 4 - 4L * numRestarts;
        if (numRestarts < 0 || end < 0) {
            throw new IllegalArgumentException(
                    source + ": block at " + offset + " has a bad restart count " + numRestarts);
        }
        CodedInputStream in = CodedInputStream.newInstance(b.slice(0, (int) end));
        Map<String, ByteBuffer> out = new TreeMap<>();
        byte[] key = new byte[0];
        while (!in.isAtEnd()) {
            int shared = in.readRawVarint32(), nonShared = in.readRawVarint32(), valueLength = in.readRawVarint32();
            if (shared < 0 || shared > key.length) {
                throw new IllegalArgumentException(source + ": corrupt key prefix in block at " + offset);
            }
            long left = end - in.getTotalBytesRead();
            if (nonShared < 0 || valueLength < 0 || (long) nonShared + valueLength > left) {
                throw new IllegalArgumentException(source + ": entry of block at " + offset + " claims " + nonShared
                        + " key and " + valueLength + " value bytes, " + left + " are left");
            }
            byte[] next = Arrays.copyOf(key, shared + nonShared);
            System.arraycopy(in.readRawBytes(nonShared), 0, next, shared, nonShared);
            key = next;
            int valueStart = in.getTotalBytesRead();
            in.skipRawBytes(valueLength);
            out.put(new String(key, StandardCharsets.UTF_8), b.slice(valueStart, valueLength));
        }
        return out;
    }

    /** Checks the BundleHeaderProto (num_shards=1, endianness=2) and returns the shard count. */
    private static int readHeader(Map<String, ByteBuffer> raw, String source) throws IOException {
        ByteBuffer header = raw.get("");
        if (header == null) throw new IllegalArgumentException(source + ": no bundle header (entry with empty key)");
        CodedInputStream in = CodedInputStream.newInstance(header.duplicate());
        int numShards = 1, endianness = 0;
        while (true) {
            int tag = in.readTag();
            if (tag == 0) break;
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 1 -> numShards = in.readInt32();
                case 2 -> endianness = in.readEnum();
                default -> in.skipField(tag);
            }
        }
        if (endianness != 0) {
            throw new IllegalArgumentException(source + ": big-endian bundles are not supported");
        }
        return numShards;
    }

    private static Entry parseEntry(String name, ByteBuffer value, String source) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(value.duplicate());
        int dtype = 0, shard = 0, crc = 0;
        long offset = 0, size = 0;
        List<Long> dims = new ArrayList<>();
        while (true) {
            int tag = in.readTag();
            if (tag == 0) break;
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 1 -> dtype = in.readEnum();
                case 2 -> {
                    int old = in.pushLimit(in.readRawVarint32());
                    shape(in, dims, name, source);
                    in.popLimit(old);
                }
                case 3 -> shard = in.readInt32();
                case 4 -> offset = in.readInt64();
                case 5 -> size = in.readInt64();
                case 6 -> crc = in.readFixed32();
                case 7 ->
                    throw new IllegalArgumentException(source + ": '" + name + "' is saved as slices (a "
                            + "partitioned variable); sliced tensors are not supported");
                default -> in.skipField(tag);
            }
        }
        return new Entry(name, dtype, dims.stream().mapToLong(Long::longValue).toArray(), shard, offset, size, crc);
    }

    /** TensorShapeProto: dim=2 (repeated {size=1, name=2}), unknown_rank=3. */
    private static void shape(CodedInputStream in, List<Long> dims, String name, String source) throws IOException {
        while (true) {
            int tag = in.readTag();
            if (tag == 0) return;
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 2 -> {
                    int old = in.pushLimit(in.readRawVarint32());
                    long size = 0;
                    while (true) {
                        int t = in.readTag();
                        if (t == 0) break;
                        if (WireFormat.getTagFieldNumber(t) == 1) size = in.readInt64();
                        else in.skipField(t);
                    }
                    in.popLimit(old);
                    dims.add(size);
                }
                case 3 -> {
                    if (in.readBool()) throw new IllegalArgumentException(source + ": '" + name + "' has unknown rank");
                }
                default -> in.skipField(tag);
            }
        }
    }
}
