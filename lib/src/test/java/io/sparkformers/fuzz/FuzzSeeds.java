package io.sparkformers.fuzz;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.CodedOutputStream;
import io.sparkformers.convert.WordPieceTokenizerJson;
import io.sparkformers.hub.Json;
import io.sparkformers.hub.TokenizerConfig;
import io.sparkformers.nn.bert.BertConfig;
import io.sparkformers.nn.distilbert.DistilBertConfig;
import io.sparkformers.nn.vision.cnn.CnnConfig;
import io.sparkformers.nn.vision.vit.ViTConfig;
import io.sparkformers.safetensors.SafetensorsWriter;
import io.sparkformers.safetensors.Tensor;
import io.sparkformers.vision.ImageProcessorConfig;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;
import java.util.zip.GZIPOutputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The valid inputs the fuzzers start from, and the fixed side files some targets need. The seeds are committed under
 * {@code src/test/resources/io/sparkformers/fuzz/<Class>Inputs/<method>/}; regenerate them with
 * {@code mvn -o -pl lib test -Dtest=FuzzSeeds -Dfuzz.writeSeeds=true}.
 */
class FuzzSeeds {

    /** The one shard that {@link SafetensorsFuzzTest#shardedIndex} indexes. */
    static final String SHARD_NAME = "model-00001-of-00001.safetensors";

    private static final Path INPUTS = Path.of("src/test/resources/io/sparkformers/fuzz");

    @Test
    @EnabledIfSystemProperty(named = "fuzz.writeSeeds", matches = "true")
    void writeSeeds() throws Exception {
        seed("SafetensorsFuzzTest", "safetensorsFile", shard());
        seed(
                "SafetensorsFuzzTest",
                "safetensorsFile",
                safetensors(
                        Map.of(
                                "h",
                                new Tensor(
                                        io.sparkformers.safetensors.DType.BF16, new long[] {2}, ByteBuffer.allocate(4)),
                                "i",
                                Tensor.ofLongs(new long[] {7}, 1),
                                "s",
                                Tensor.ofFloats(new float[] {1f})),
                        Map.of()));
        seed(
                "SafetensorsFuzzTest",
                "shardedIndex",
                utf8("{\"metadata\": {\"total_size\": 32}, \"weight_map\": " + "{\"bert.pooler.dense.bias\": \""
                        + SHARD_NAME + "\", \"classifier.weight\": \"" + SHARD_NAME + "\"}}"));

        seed("ConfigJsonFuzzTest", "configJson", json(BertConfig.tiny().toJson()));
        seed(
                "ConfigJsonFuzzTest",
                "configJson",
                utf8("{\"model_type\": \"roberta\", \"num_labels\": 3, "
                        + "\"id2label\": {\"0\": \"a\", \"1\": \"b\", \"2\": \"c\"}, \"architectures\": [\"X\"]}"));
        seed("ConfigJsonFuzzTest", "configJson", json(DistilBertConfig.tiny().toJson()));
        seed("ConfigJsonFuzzTest", "configJson", json(ViTConfig.tiny(3).toJson()));
        seed(
                "ConfigJsonFuzzTest",
                "configJson",
                json(CnnConfig.tiny("resnet18-torchvision", 10).toJson()));
        seed("ConfigJsonFuzzTest", "configJson", utf8("{\"model_type\": \"vgg16-torchvision\", \"num_classes\": 4}"));

        seed(
                "TokenizerFuzzTest",
                "tokenizerConfig",
                json(TokenizerConfig.bertUncased(512).toJson()));
        seed(
                "TokenizerFuzzTest",
                "tokenizerConfig",
                utf8("{\"model_max_length\": 1000000000000000019884624838656, "
                        + "\"mask_token\": {\"content\": \"<mask>\", \"lstrip\": true}, \"do_lower_case\": false}"));
        seed("TokenizerFuzzTest", "tokenizerJson", tokenizerJson());

        seed("OnnxFuzzTest", "onnxModel", onnx());

        seed("TfBundleFuzzTest", "bundleIndex", bundleIndex());

        BufferedImage rgb = new BufferedImage(4, 3, BufferedImage.TYPE_INT_RGB);
        rgb.setRGB(1, 1, 0xff8040);
        BufferedImage rgba = new BufferedImage(4, 3, BufferedImage.TYPE_INT_ARGB);
        rgba.setRGB(2, 1, 0x80ff8040);
        BufferedImage gray = new BufferedImage(4, 3, BufferedImage.TYPE_BYTE_GRAY);
        gray.getRaster().setSample(0, 0, 0, 200);
        BufferedImage indexed = new BufferedImage(4, 3, BufferedImage.TYPE_BYTE_INDEXED);
        seed("VisionFuzzTest", "imageBytes", encode(rgb, "png"));
        seed("VisionFuzzTest", "imageBytes", encode(rgba, "png"));
        seed("VisionFuzzTest", "imageBytes", encode(gray, "png"));
        seed("VisionFuzzTest", "imageBytes", encode(rgb, "jpeg"));
        seed("VisionFuzzTest", "imageBytes", encode(indexed, "gif"));
        seed("VisionFuzzTest", "imageBytes", encode(rgb, "bmp"));
        seed("VisionFuzzTest", "idxFile", idx(new int[] {2, 3, 3}));
        seed("VisionFuzzTest", "idxFile", gzip(idx(new int[] {2, 3, 3})));
        seed("VisionFuzzTest", "idxFile", idx(new int[] {5}));
        seed(
                "VisionFuzzTest",
                "preprocessorConfig",
                json(ImageProcessorConfig.vitDefaults().toJson()));
        seed(
                "VisionFuzzTest",
                "preprocessorConfig",
                json(ImageProcessorConfig.imagenet().toJson()));
        seed(
                "VisionFuzzTest",
                "preprocessorConfig",
                utf8("{\"size\": 32, \"image_mean\": 0.5, \"image_std\": [1, 2, 3],"
                        + " \"resample\": 3, \"do_center_crop\": true, \"crop_size\": 16}"));
    }

    /** A valid single-file checkpoint of two float32 tensors (32 bytes of data). */
    static byte[] shard() throws IOException {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("bert.pooler.dense.bias", Tensor.ofFloats(new float[] {1, 2}, 2));
        t.put("classifier.weight", Tensor.ofFloats(new float[] {1, -2, 3, -4, 5, -6}, 2, 3));
        return safetensors(t, Map.of("format", "pt"));
    }

    /** A WordPiece {@code tokenizer.json} of a twelve-token vocabulary, as the converters write one. */
    static byte[] tokenizerJson() {
        return WordPieceTokenizerJson.build(
                List.of(
                        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", ",", "world", "!", "un", "##aff",
                        "##able"),
                true);
    }

    /** The data shard of {@link #bundleIndex()}: a 2×2 float32 kernel then one int64 step. */
    static byte[] bundleData() {
        ByteBuffer b = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        b.putFloat(1).putFloat(-2).putFloat(3).putFloat(-4).putLong(42);
        return b.array();
    }

    /** A TF bundle index (LevelDB table, one data block) over {@link #bundleData()}. */
    static byte[] bundleIndex() throws IOException {
        byte[] data = bundleData();
        Map<String, byte[]> entries = new LinkedHashMap<>(); // keys sorted, as an SSTable requires
        entries.put("", message(o -> o.writeInt32(1, 1))); // BundleHeaderProto num_shards=1
        entries.put("dense/kernel", bundleEntry(1, new long[] {2, 2}, 0, 16, crc(data, 0, 16)));
        entries.put("global_step", bundleEntry(9, new long[] {}, 16, 8, crc(data, 16, 8)));
        ByteArrayOutputStream table = new ByteArrayOutputStream();
        byte[] dataBlock = block(entries);
        writeBlock(table, dataBlock);
        byte[] handle = message(o -> {
            o.writeUInt64NoTag(0);
            o.writeUInt64NoTag(dataBlock.length);
        });
        Map<String, byte[]> index = new LinkedHashMap<>();
        index.put("global_step", handle);
        byte[] indexBlock = block(index);
        int indexOffset = table.size();
        writeBlock(table, indexBlock);
        byte[] footer = new byte[48];
        byte[] handles = message(o -> {
            o.writeUInt64NoTag(0);
            o.writeUInt64NoTag(0);
            o.writeUInt64NoTag(indexOffset);
            o.writeUInt64NoTag(indexBlock.length);
        });
        System.arraycopy(handles, 0, footer, 0, handles.length);
        ByteBuffer.wrap(footer, 40, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(0xdb4775248b80fb57L);
        table.write(footer);
        return table.toByteArray();
    }

    private static byte[] bundleEntry(int dtype, long[] dims, long offset, long size, int crc) {
        byte[] shape = message(o -> {
            for (long d : dims) o.writeByteArray(2, message(dim -> dim.writeInt64(1, d)));
        });
        return message(o -> {
            o.writeEnum(1, dtype);
            o.writeByteArray(2, shape);
            if (offset != 0) o.writeInt64(4, offset);
            o.writeInt64(5, size);
            o.writeFixed32(6, crc);
        });
    }

    private static byte[] block(Map<String, byte[]> entries) {
        return message(o -> {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                byte[] key = utf8(e.getKey());
                o.writeUInt32NoTag(0); // shared prefix: none
                o.writeUInt32NoTag(key.length);
                o.writeUInt32NoTag(e.getValue().length);
                o.writeRawBytes(key);
                o.writeRawBytes(e.getValue());
            }
            o.writeFixed32NoTag(0); // restart array [0], count 1
            o.writeFixed32NoTag(1);
        });
    }

    private static void writeBlock(ByteArrayOutputStream table, byte[] block) throws IOException {
        table.write(block);
        table.write(0); // uncompressed
        CRC32C crc = new CRC32C();
        crc.update(block);
        crc.update(0);
        table.write(ByteBuffer.allocate(4)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putInt(mask((int) crc.getValue()))
                .array());
    }

    private static int crc(byte[] data, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(data, offset, length);
        return mask((int) crc.getValue());
    }

    private static int mask(int crc) {
        return ((crc >>> 15) | (crc << 17)) + 0xa282ead8;
    }

    /** An ONNX model of one dense layer (MatMul → Add of a named bias) and two Constant nodes. */
    static byte[] onnx() {
        byte[] weight = message(o -> {
            o.writeInt64(1, 2);
            o.writeInt64(1, 2);
            o.writeInt32(2, 1);
            o.writeString(8, "onnx::MatMul_1");
            o.writeByteArray(9, new byte[16]);
        });
        byte[] bias = message(o -> {
            o.writeInt64(1, 2);
            o.writeInt32(2, 1);
            o.writeString(8, "encoder.layer.0.output.dense.bias");
            o.writeRawVarint32((4 << 3) | 2); // float_data, packed
            o.writeUInt32NoTag(8);
            o.writeFloatNoTag(0.5f);
            o.writeFloatNoTag(-0.5f);
        });
        byte[] ints = message(o -> {
            o.writeString(1, "value_ints");
            o.writeInt64(8, 4);
            o.writeInt64(8, 8);
            o.writeInt32(20, 7);
        });
        byte[] tensorAttr = message(o -> {
            o.writeString(1, "value");
            o.writeByteArray(5, message(t -> {
                t.writeInt32(2, 6);
                t.writeInt32(5, 3);
            }));
            o.writeInt32(20, 4);
        });
        byte[] graph = message(o -> {
            o.writeByteArray(
                    1,
                    node(
                            "/encoder/layer.0/output/dense/MatMul",
                            "MatMul",
                            List.of("x", "onnx::MatMul_1"),
                            List.of("mm")));
            o.writeByteArray(
                    1,
                    node(
                            "/encoder/layer.0/output/dense/Add",
                            "Add",
                            List.of("encoder.layer.0.output.dense.bias", "mm"),
                            List.of("y")));
            o.writeByteArray(1, node("shape", "Constant", List.of(), List.of("s"), ints));
            o.writeByteArray(1, node("scalar", "Constant", List.of(), List.of("c"), tensorAttr));
            o.writeString(2, "seed");
            o.writeByteArray(5, weight);
            o.writeByteArray(5, bias);
            o.writeByteArray(11, message(v -> v.writeString(1, "x")));
            o.writeByteArray(12, message(v -> v.writeString(1, "y")));
        });
        return message(o -> {
            o.writeInt64(1, 8);
            o.writeByteArray(7, graph);
        });
    }

    private static byte[] node(String name, String op, List<String> inputs, List<String> outputs, byte[]... attrs) {
        return message(o -> {
            for (String i : inputs) o.writeString(1, i);
            for (String out : outputs) o.writeString(2, out);
            o.writeString(3, name);
            o.writeString(4, op);
            for (byte[] a : attrs) o.writeByteArray(5, a);
        });
    }

    private interface Body {
        void write(CodedOutputStream out) throws IOException;
    }

    private static byte[] message(Body body) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            CodedOutputStream out = CodedOutputStream.newInstance(bytes);
            body.write(out);
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] idx(int[] dims) {
        int n = 1;
        for (int d : dims) n *= d;
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + n);
        b.putInt(0x0800 | dims.length);
        for (int d : dims) b.putInt(d);
        for (int i = 0; i < n; i++) b.put((byte) (i * 37));
        return b.array();
    }

    private static byte[] gzip(byte[] bytes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(bytes);
        }
        return out.toByteArray();
    }

    private static byte[] encode(BufferedImage img, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(img, format, out)) throw new IOException("no ImageIO writer for " + format);
        return out.toByteArray();
    }

    private static byte[] safetensors(Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        Path tmp = Files.createTempFile("seed", ".safetensors");
        try {
            SafetensorsWriter.write(tmp, tensors, metadata);
            return Files.readAllBytes(tmp);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static byte[] json(ObjectNode node) throws IOException {
        return Json.MAPPER.writeValueAsBytes(node);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Writes {@code bytes} as {@code seed-<sha1>} so that re-running the generator leaves the folder unchanged. */
    private static void seed(String testClass, String method, byte[] bytes) throws Exception {
        Path dir = Files.createDirectories(INPUTS.resolve(testClass + "Inputs").resolve(method));
        String hash =
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(bytes));
        Files.write(dir.resolve("seed-" + hash), bytes);
    }
}
