package io.sparkformers.convert;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import io.sparkformers.safetensors.DType;
import io.sparkformers.safetensors.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A minimal reader of ONNX {@code ModelProto} files: the graph's nodes, initializers and {@code Constant} values,
 * nothing else. Written against the field numbers of {@code onnx.proto} (ModelProto, GraphProto, NodeProto,
 * AttributeProto, TensorProto) with protobuf's wire-format reader, so no generated ONNX classes are needed.
 * Tensor payloads alias the input buffer (no copy); tensors kept in external files are refused.
 */
public final class OnnxModel {

    /** ONNX {@code TensorProto.DataType} codes this reader turns into {@link Tensor}s. */
    static final int FLOAT = 1, UINT8 = 2, INT8 = 3, INT32 = 6, INT64 = 7, FLOAT16 = 10, DOUBLE = 11;

    /**
     * One graph node.
     *
     * @param name       node name (may be empty)
     * @param opType     operator, e.g. {@code "MatMul"}
     * @param domain     operator domain; empty for the default ONNX domain
     * @param inputs     names of the values it reads, in order (an empty name is an omitted optional input)
     * @param outputs    names of the values it writes
     * @param attributes attributes by name, in file order
     */
    public record Node(
            String name,
            String opType,
            String domain,
            List<String> inputs,
            List<String> outputs,
            Map<String, Attribute> attributes) {
        public Node {
            inputs = List.copyOf(inputs);
            outputs = List.copyOf(outputs);
            attributes = Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
        }

        public Optional<Attribute> attribute(String attributeName) {
            return Optional.ofNullable(attributes.get(attributeName));
        }
    }

    /**
     * One node attribute. Only the field matching {@link #type} is meaningful.
     *
     * @param name    attribute name
     * @param type    ONNX {@code AttributeType}: 1 FLOAT, 2 INT, 3 STRING, 4 TENSOR, 5 GRAPH, 6 FLOATS, 7 INTS, …
     * @param f       FLOAT value
     * @param i       INT value
     * @param s       STRING value (raw bytes)
     * @param t       TENSOR value, or null
     * @param floats  FLOATS values
     * @param ints    INTS values
     */
    public record Attribute(String name, int type, float f, long i, byte[] s, Tensor t, float[] floats, long[] ints) {
        public static final int FLOAT = 1, INT = 2, STRING = 3, TENSOR = 4, GRAPH = 5, FLOATS = 6, INTS = 7;
    }

    private final String source;
    private final String graphName;
    private final List<Node> nodes;
    private final Map<String, Tensor> initializers;
    private final Map<String, Tensor> constants;
    private final List<String> graphInputs;
    private final List<String> graphOutputs;
    private final Map<String, Node> producers = new HashMap<>();
    private final Map<String, List<Node>> consumers = new HashMap<>();

    private OnnxModel(
            String source,
            String graphName,
            List<Node> nodes,
            Map<String, Tensor> initializers,
            List<String> graphInputs,
            List<String> graphOutputs) {
        this.source = source;
        this.graphName = graphName;
        this.nodes = List.copyOf(nodes);
        this.initializers = Collections.unmodifiableMap(initializers);
        this.graphInputs = List.copyOf(graphInputs);
        this.graphOutputs = List.copyOf(graphOutputs);
        Map<String, Tensor> consts = new LinkedHashMap<>();
        for (Node n : nodes) {
            for (String out : n.outputs()) producers.put(out, n);
            for (String in : n.inputs())
                consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
            if (n.opType().equals("Constant")
                    && n.domain().isEmpty()
                    && n.outputs().size() == 1) {
                constantValue(n).ifPresent(t -> consts.put(n.outputs().get(0), t));
            }
        }
        this.constants = Collections.unmodifiableMap(consts);
    }

    /** Reads a model file by mapping it; tensors alias the mapping. */
    public static OnnxModel read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (ch.size() > Integer.MAX_VALUE) {
                throw new IOException(file + ": ONNX files over 2 GiB keep their weights as external data, "
                        + "which this reader does not support");
            }
            return read(ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size()), file.toString());
        }
    }

    /**
     * Reads a model from a stream (e.g. a jar entry) into one array.
     *
     * @param sizeHint the exact byte count when known (a zip entry's size), else -1
     */
    public static OnnxModel read(InputStream in, long sizeHint, String source) throws IOException {
        byte[] bytes;
        if (sizeHint >= 0) {
            if (sizeHint > Integer.MAX_VALUE - 8)
                throw new IOException(source + ": too large for one array (" + sizeHint + " bytes)");
            bytes = in.readNBytes((int) sizeHint);
            if (bytes.length != sizeHint || in.read() != -1) {
                throw new IOException(source + ": expected " + sizeHint + " bytes, stream disagrees");
            }
        } else {
            bytes = in.readAllBytes();
        }
        return read(ByteBuffer.wrap(bytes), source);
    }

    /** Parses a serialized {@code ModelProto}; {@code source} names the input in error messages. */
    public static OnnxModel read(ByteBuffer bytes, String source) {
        CodedInputStream in = CodedInputStream.newInstance(bytes.slice());
        in.enableAliasing(true); // raw_data becomes a view of the input, not a copy
        in.setSizeLimit(Integer.MAX_VALUE);
        try {
            Parser p = new Parser(source);
            boolean sawGraph = false;
            while (true) {
                int tag = in.readTag();
                if (tag == 0) break;
                if (WireFormat.getTagFieldNumber(tag) == 7
                        && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                    int old = in.pushLimit(in.readRawVarint32());
                    p.graph(in);
                    in.popLimit(old);
                    sawGraph = true;
                } else {
                    in.skipField(tag);
                }
            }
            if (!sawGraph) throw new IllegalArgumentException(source + ": not an ONNX model (no graph field)");
            return new OnnxModel(source, p.graphName, p.nodes, p.initializers, p.inputs, p.outputs);
        } catch (IOException e) {
            throw new UncheckedIOException(source + ": malformed ONNX protobuf: " + e.getMessage(), e);
        }
    }

    /** Where the model was read from, as given to {@code read}. */
    public String source() {
        return source;
    }

    public String graphName() {
        return graphName;
    }

    /** Nodes in graph order (ONNX requires topological order). */
    public List<Node> nodes() {
        return nodes;
    }

    /** Initializers by name, in file order. */
    public Map<String, Tensor> initializers() {
        return initializers;
    }

    /** Values of {@code Constant} nodes, keyed by the node's output name. */
    public Map<String, Tensor> constants() {
        return constants;
    }

    /** Names of the graph inputs (may include initializer names in old exports). */
    public List<String> graphInputs() {
        return graphInputs;
    }

    public List<String> graphOutputs() {
        return graphOutputs;
    }

    /** The initializer or Constant-node value with this name, if the value is static. */
    public Optional<Tensor> staticValue(String valueName) {
        Tensor t = initializers.get(valueName);
        return t != null ? Optional.of(t) : Optional.ofNullable(constants.get(valueName));
    }

    /** The node that writes {@code valueName}, if any (initializers and graph inputs have none). */
    public Optional<Node> producer(String valueName) {
        return Optional.ofNullable(producers.get(valueName));
    }

    /** The nodes that read {@code valueName}, in graph order. */
    public List<Node> consumers(String valueName) {
        return consumers.getOrDefault(valueName, List.of());
    }

    private static Optional<Tensor> constantValue(Node n) {
        for (Attribute a : n.attributes().values()) {
            switch (a.name()) {
                case "value":
                    return Optional.ofNullable(a.t());
                case "value_float":
                    return Optional.of(Tensor.ofFloats(new float[] {a.f()}));
                case "value_floats":
                    return Optional.of(Tensor.ofFloats(a.floats(), a.floats().length));
                case "value_int":
                    return Optional.of(Tensor.ofLongs(new long[] {a.i()}));
                case "value_ints":
                    return Optional.of(Tensor.ofLongs(a.ints(), a.ints().length));
                default:
                    break; // sparse_value, value_string(s): not needed here
            }
        }
        return Optional.empty();
    }

    /** Field-by-field decoder; keeps the source name for messages. */
    private static final class Parser {
        final String source;
        String graphName = "";
        final List<Node> nodes = new ArrayList<>();
        final Map<String, Tensor> initializers = new LinkedHashMap<>();
        final List<String> inputs = new ArrayList<>();
        final List<String> outputs = new ArrayList<>();

        Parser(String source) {
            this.source = source;
        }

        void graph(CodedInputStream in) throws IOException {
            while (true) {
                int tag = in.readTag();
                if (tag == 0) return;
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1 -> {
                        int old = in.pushLimit(in.readRawVarint32());
                        nodes.add(node(in));
                        in.popLimit(old);
                    }
                    case 2 -> graphName = in.readStringRequireUtf8();
                    case 5 -> {
                        int old = in.pushLimit(in.readRawVarint32());
                        Named t = tensor(in, "initializer #" + initializers.size());
                        in.popLimit(old);
                        initializers.put(t.name, t.tensor);
                    }
                    case 11 -> inputs.add(valueInfoName(in));
                    case 12 -> outputs.add(valueInfoName(in));
                    case 15 -> throw new IllegalArgumentException(source + ": sparse initializers are not supported");
                    default -> in.skipField(tag);
                }
            }
        }

        String valueInfoName(CodedInputStream in) throws IOException {
            int old = in.pushLimit(in.readRawVarint32());
            String name = "";
            while (true) {
                int tag = in.readTag();
                if (tag == 0) break;
                if (WireFormat.getTagFieldNumber(tag) == 1) name = in.readStringRequireUtf8();
                else in.skipField(tag);
            }
            in.popLimit(old);
            return name;
        }

        Node node(CodedInputStream in) throws IOException {
            String name = "", opType = "", domain = "";
            List<String> ins = new ArrayList<>(), outs = new ArrayList<>();
            Map<String, Attribute> attrs = new LinkedHashMap<>();
            while (true) {
                int tag = in.readTag();
                if (tag == 0) break;
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1 -> ins.add(in.readStringRequireUtf8());
                    case 2 -> outs.add(in.readStringRequireUtf8());
                    case 3 -> name = in.readStringRequireUtf8();
                    case 4 -> opType = in.readStringRequireUtf8();
                    case 5 -> {
                        int old = in.pushLimit(in.readRawVarint32());
                        Attribute a = attribute(in, name);
                        in.popLimit(old);
                        attrs.put(a.name(), a);
                    }
                    case 7 -> domain = in.readStringRequireUtf8();
                    default -> in.skipField(tag);
                }
            }
            return new Node(name, opType, domain, ins, outs, attrs);
        }

        Attribute attribute(CodedInputStream in, String nodeName) throws IOException {
            String name = "";
            int type = 0;
            float f = 0;
            long i = 0;
            byte[] s = null;
            Tensor t = null;
            FloatList floats = new FloatList();
            LongList ints = new LongList();
            while (true) {
                int tag = in.readTag();
                if (tag == 0) break;
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1 -> name = in.readStringRequireUtf8();
                    case 2 -> f = in.readFloat();
                    case 3 -> i = in.readInt64();
                    case 4 -> s = in.readByteArray();
                    case 5 -> {
                        int old = in.pushLimit(in.readRawVarint32());
                        t = tensor(in, "attribute of node '" + nodeName + "'").tensor;
                        in.popLimit(old);
                    }
                    case 7 -> floats.read(in, tag);
                    case 8 -> ints.readVarints(in, tag);
                    case 20 -> type = in.readInt32();
                    default -> in.skipField(tag); // graphs, strings, tensors lists: not needed
                }
            }
            return new Attribute(name, type, f, i, s, t, floats.toArray(), ints.toArray());
        }

        record Named(String name, Tensor tensor) {}

        Named tensor(CodedInputStream in, String where) throws IOException {
            LongList dims = new LongList();
            int dataType = 0;
            String name = "";
            ByteBuffer raw = null;
            FloatList floatData = new FloatList();
            LongList int32Data = new LongList(), int64Data = new LongList();
            List<Double> doubleData = new ArrayList<>();
            boolean external = false;
            while (true) {
                int tag = in.readTag();
                if (tag == 0) break;
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1 -> dims.readVarints(in, tag);
                    case 2 -> dataType = in.readInt32();
                    case 4 -> floatData.read(in, tag);
                    case 5 -> int32Data.readVarints(in, tag);
                    case 7 -> int64Data.readVarints(in, tag);
                    case 8 -> name = in.readStringRequireUtf8();
                    case 9 -> raw = in.readByteBuffer();
                    case 10 -> readDoubles(in, tag, doubleData);
                    case 13 -> {
                        external = true;
                        in.skipField(tag);
                    }
                    case 14 -> external |= in.readInt32() == 1; // DataLocation.EXTERNAL
                    case 3 ->
                        throw new IllegalArgumentException(source + ": tensor '" + name + "' (" + where
                                + ") is segmented; segmented tensors are not supported");
                    default -> in.skipField(tag);
                }
            }
            String label = name.isEmpty() ? where : "'" + name + "'";
            if (external) {
                throw new IllegalArgumentException(source + ": tensor " + label + " keeps its data in an external "
                        + "file; only self-contained ONNX models are supported (re-save with all tensors inline)");
            }
            long[] shape = dims.toArray();
            DType dtype = switch (dataType) {
                case FLOAT -> DType.F32;
                case UINT8 -> DType.U8;
                case INT8 -> DType.I8;
                case INT32 -> DType.I32;
                case INT64 -> DType.I64;
                case FLOAT16 -> DType.F16;
                case DOUBLE -> DType.F64;
                default ->
                    throw new IllegalArgumentException(source + ": tensor " + label
                            + " has unsupported ONNX data_type " + dataType
                            + " (supported: 1 FLOAT, 2 UINT8, 3 INT8, 6 INT32, 7 INT64, 10 FLOAT16, 11 DOUBLE)");
            };
            long n = numel(shape, label);
            ByteBuffer data;
            if (raw != null) {
                data = raw;
            } else {
                int have = switch (dtype) {
                    case F32 -> floatData.size;
                    case F64 -> doubleData.size();
                    case I64 -> int64Data.size;
                    default -> int32Data.size; // int32_data also carries int8, uint8 and float16 bits
                };
                if (have != n) { // checked first: the shape alone allocates nothing
                    throw new IllegalArgumentException(source + ": tensor " + label + " of shape "
                            + java.util.Arrays.toString(shape) + " has " + have + " typed values, expected " + n);
                }
                if (have > Integer.MAX_VALUE / dtype.byteSize()) {
                    throw new IllegalArgumentException(source + ": tensor " + label + " has " + have
                            + " typed values, more than one buffer holds");
                }
                data = ByteBuffer.allocate(have * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
                for (int k = 0; k < have; k++) {
                    switch (dtype) {
                        case F32 -> data.putFloat(floatData.values[k]);
                        case F64 -> data.putDouble(doubleData.get(k));
                        case I64 -> data.putLong(int64Data.values[k]);
                        case I32 -> data.putInt((int) int32Data.values[k]);
                        case F16 -> data.putShort((short) int32Data.values[k]);
                        default -> data.put((byte) int32Data.values[k]);
                    }
                }
                data.flip();
            }
            try {
                return new Named(name, new Tensor(dtype, shape, data));
            } catch (IllegalArgumentException | ArithmeticException e) {
                throw new IllegalArgumentException(source + ": tensor " + label + ": " + e.getMessage(), e);
            }
        }

        /** Elements of {@code shape}, refused when a dimension is negative or the product overflows 64 bits. */
        long numel(long[] shape, String label) {
            long n = 1;
            for (long d : shape) {
                if (d < 0 || (d > 0 && n > Long.MAX_VALUE / d)) {
                    throw new IllegalArgumentException(source + ": tensor " + label + " has an impossible shape "
                            + java.util.Arrays.toString(shape));
                }
                n *= d;
            }
            return n;
        }

        static void readDoubles(CodedInputStream in, int tag, List<Double> out) throws IOException {
            if (WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                int old = in.pushLimit(in.readRawVarint32());
                while (in.getBytesUntilLimit() > 0) out.add(in.readDouble());
                in.popLimit(old);
            } else {
                out.add(in.readDouble());
            }
        }
    }

    /** Growable float list that accepts both packed and unpacked encodings (proto2 files use either). */
    private static final class FloatList {
        float[] values = new float[8];
        int size;

        void read(CodedInputStream in, int tag) throws IOException {
            if (WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                int len = in.readRawVarint32();
                int old = in.pushLimit(len);
                ensure(size + len / 4);
                while (in.getBytesUntilLimit() > 0) values[size++] = in.readFloat();
                in.popLimit(old);
            } else {
                ensure(size + 1);
                values[size++] = in.readFloat();
            }
        }

        void ensure(int cap) {
            if (cap > values.length) values = java.util.Arrays.copyOf(values, Math.max(cap, values.length * 2));
        }

        float[] toArray() {
            return java.util.Arrays.copyOf(values, size);
        }
    }

    /** Growable long list for varint fields (int32 / int64), packed or not. */
    private static final class LongList {
        long[] values = new long[8];
        int size;

        void readVarints(CodedInputStream in, int tag) throws IOException {
            if (WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                int old = in.pushLimit(in.readRawVarint32());
                while (in.getBytesUntilLimit() > 0) add(in.readInt64());
                in.popLimit(old);
            } else {
                add(in.readInt64());
            }
        }

        void add(long v) {
            if (size == values.length) values = java.util.Arrays.copyOf(values, size * 2);
            values[size++] = v;
        }

        long[] toArray() {
            return java.util.Arrays.copyOf(values, size);
        }
    }
}
