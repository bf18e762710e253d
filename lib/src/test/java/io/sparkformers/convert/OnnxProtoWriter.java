package io.sparkformers.convert;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.Consumer;

/** Writes tiny ONNX ModelProto messages field by field (onnx.proto numbers) for tests of the reader. */
final class OnnxProtoWriter {

    private OnnxProtoWriter() {}

    /** One length-delimited message built by {@code body}. */
    static byte[] message(IoConsumer body) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            CodedOutputStream out = CodedOutputStream.newInstance(bytes);
            body.accept(out);
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    interface IoConsumer {
        void accept(CodedOutputStream out) throws IOException;
    }

    /** ModelProto with ir_version 8 and the given GraphProto bytes. */
    static byte[] model(byte[] graph) {
        return message(o -> {
            o.writeInt64(1, 8);
            o.writeByteArray(7, graph);
        });
    }

    /** TensorProto float32 with raw_data. */
    static byte[] floatTensor(String name, float[] values, long... dims) {
        ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        raw.asFloatBuffer().put(values);
        return message(o -> {
            for (long d : dims) o.writeInt64(1, d);
            o.writeInt32(2, 1);
            o.writeString(8, name);
            o.writeBytes(9, ByteString.copyFrom(raw.array()));
        });
    }

    /** NodeProto. */
    static byte[] node(String name, String opType, String[] inputs, String[] outputs, byte[]... attributes) {
        return message(o -> {
            for (String i : inputs) o.writeString(1, i);
            for (String out : outputs) o.writeString(2, out);
            o.writeString(3, name);
            o.writeString(4, opType);
            for (byte[] a : attributes) o.writeByteArray(5, a);
        });
    }

    static byte[] graph(Consumer<GraphBuilder> body) {
        GraphBuilder g = new GraphBuilder();
        body.accept(g);
        return message(o -> {
            for (byte[] n : g.nodes) o.writeByteArray(1, n);
            o.writeString(2, "test");
            for (byte[] t : g.initializers) o.writeByteArray(5, t);
        });
    }

    static final class GraphBuilder {
        final java.util.List<byte[]> nodes = new java.util.ArrayList<>();
        final java.util.List<byte[]> initializers = new java.util.ArrayList<>();

        GraphBuilder node(byte[] n) {
            nodes.add(n);
            return this;
        }

        GraphBuilder initializer(byte[] t) {
            initializers.add(t);
            return this;
        }
    }
}
