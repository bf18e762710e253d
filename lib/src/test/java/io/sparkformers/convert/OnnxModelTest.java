package io.sparkformers.convert;

import static io.sparkformers.convert.OnnxProtoWriter.graph;
import static io.sparkformers.convert.OnnxProtoWriter.message;
import static io.sparkformers.convert.OnnxProtoWriter.model;
import static io.sparkformers.convert.OnnxProtoWriter.node;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.CodedOutputStream;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class OnnxModelTest {

    @Test
    void readsTypedTensorFieldsAndConstantNodes() {
        byte[] floats = message(
                o -> { // float_data, packed
                    o.writeInt64(1, 2);
                    o.writeInt32(2, OnnxModel.FLOAT);
                    o.writeString(8, "f");
                    o.writeTag(4, 2);
                    o.writeUInt32NoTag(8);
                    o.writeFloatNoTag(1.5f);
                    o.writeFloatNoTag(-2f);
                });
        byte[] longs = message(
                o -> { // int64_data, unpacked, and a scalar (no dims)
                    o.writeInt32(2, OnnxModel.INT64);
                    o.writeString(8, "s");
                    o.writeInt64(7, -3);
                });
        byte[] shapeAttr = message(o -> {
            o.writeString(1, "value");
            o.writeByteArray(5, message(t -> {
                t.writeInt64(1, 4);
                t.writeInt32(2, OnnxModel.INT64);
                for (long v : new long[] {0, 0, 12, 32}) t.writeInt64(7, v);
            }));
            o.writeInt32(20, OnnxModel.Attribute.TENSOR);
        });
        byte[] bytes = model(graph(g -> g.initializer(floats)
                .initializer(longs)
                .node(node("c", "Constant", new String[0], new String[] {"shape"}, shapeAttr))));
        OnnxModel m = OnnxModel.read(ByteBuffer.wrap(bytes), "typed.onnx");
        assertArrayEquals(new float[] {1.5f, -2f}, m.initializers().get("f").toFloatArray());
        assertEquals(-3L, m.initializers().get("s").data().getLong(0));
        assertEquals(0, m.initializers().get("s").shape().length);
        assertEquals(4, m.constants().get("shape").numel());
        assertEquals(12L, m.staticValue("shape").orElseThrow().data().getLong(16));
        assertEquals("c", m.producer("shape").orElseThrow().name());
    }

    @Test
    void refusesExternalData() {
        byte[] ext = message(o -> {
            o.writeInt64(1, 2);
            o.writeInt32(2, OnnxModel.FLOAT);
            o.writeString(8, "big.weight");
            o.writeInt32(14, 1); // data_location = EXTERNAL
        });
        byte[] bytes = model(graph(g -> g.initializer(ext)));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> OnnxModel.read(ByteBuffer.wrap(bytes), "ext.onnx"));
        assertTrue(
                e.getMessage().contains("ext.onnx")
                        && e.getMessage().contains("'big.weight'")
                        && e.getMessage().contains("external"),
                e.getMessage());
    }

    @Test
    void refusesUnsupportedDataType() {
        byte[] str = message(o -> {
            o.writeInt32(2, 8);
            o.writeString(8, "names");
        }); // STRING
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> OnnxModel.read(ByteBuffer.wrap(model(graph(g -> g.initializer(str)))), "s.onnx"));
        assertTrue(e.getMessage().contains("'names'") && e.getMessage().contains("data_type 8"), e.getMessage());
    }

    @Test
    void refusesBytesThatAreNotAModel() {
        byte[] junk = message((CodedOutputStream o) -> o.writeString(2, "producer only"));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> OnnxModel.read(ByteBuffer.wrap(junk), "junk.onnx"));
        assertTrue(e.getMessage().contains("junk.onnx: not an ONNX model"), e.getMessage());
    }
}
