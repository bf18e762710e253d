package io.sparkformers.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sharded checkpoints in the layout {@code transformers}' {@code save_pretrained} writes, and their validation. */
class ShardedCheckpointTest {

    private static final Map<String, String> META = Map.of("format", "pt");

    @TempDir
    Path dir;

    /** Five 16-byte F32 tensors a..e; with 40-byte shards they pack as [a, b], [c, d], [e]. */
    private static Map<String, Tensor> fiveTensors() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (char c = 'e'; c >= 'a'; c--) m.put(String.valueOf(c), Tensor.ofFloats(new float[] {c, 1, 2, 3}, 2, 2));
        return m;
    }

    private List<String> listDir() throws IOException {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private SafetensorsException rejects(Path open, String expected) {
        SafetensorsException e = assertThrows(
                SafetensorsException.class,
                () -> SafetensorsCheckpoint.open(open).close());
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
        return e;
    }

    @Test
    void writesShardsAndAnIndexExactlyAsTransformersDoes() throws IOException {
        List<Path> written = SafetensorsWriter.writeSharded(dir, "model", fiveTensors(), META, 40);
        assertEquals(
                List.of(
                        "model-00001-of-00003.safetensors",
                        "model-00002-of-00003.safetensors",
                        "model-00003-of-00003.safetensors",
                        "model.safetensors.index.json"),
                written.stream().map(p -> p.getFileName().toString()).toList());
        assertEquals(
                listDir(),
                written.stream().map(p -> p.getFileName().toString()).sorted().toList());
        String index = Files.readString(dir.resolve("model.safetensors.index.json"), StandardCharsets.UTF_8);
        assertEquals("""
                {
                  "metadata": {
                    "total_size": 80
                  },
                  "weight_map": {
                    "a": "model-00001-of-00003.safetensors",
                    "b": "model-00001-of-00003.safetensors",
                    "c": "model-00002-of-00003.safetensors",
                    "d": "model-00002-of-00003.safetensors",
                    "e": "model-00003-of-00003.safetensors"
                  }
                }
                """, index);
        try (SafetensorsFile s2 = SafetensorsFile.open(dir.resolve("model-00002-of-00003.safetensors"))) {
            assertEquals(Set.of("c", "d"), s2.names());
            assertEquals(META, s2.metadata());
        }
    }

    @Test
    void readsAShardedCheckpointFromItsDirectoryOrItsIndex() throws IOException {
        Map<String, Tensor> in = fiveTensors();
        SafetensorsWriter.writeSharded(dir, "model", in, META, 40);
        for (Path open : List.of(dir, dir.resolve("model.safetensors.index.json"))) {
            try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(open)) {
                assertTrue(ckpt.isSharded());
                assertEquals(dir.resolve("model.safetensors.index.json"), ckpt.path());
                assertEquals(List.of("a", "b", "c", "d", "e"), List.copyOf(ckpt.names()));
                assertEquals(new TreeMap<>(in), ckpt.readAll());
                assertEquals(in.get("d"), ckpt.tensor("d"));
                assertEquals(new TensorInfo("d", DType.F32, new long[] {2, 2}, 16, 32), ckpt.info("d"));
                assertEquals(
                        "model-00002-of-00003.safetensors",
                        ckpt.fileOf("d").getFileName().toString());
                assertEquals(3, ckpt.files().size());
                assertEquals(META, ckpt.metadata());
                assertEquals(Map.of("total_size", "80"), ckpt.indexMetadata());
            }
        }
    }

    @Test
    void writesOneModelSafetensorsAndNoIndexWhenEverythingFits() throws IOException {
        List<Path> written = SafetensorsWriter.writeSharded(dir, "model", fiveTensors(), META, 80);
        assertEquals(List.of(dir.resolve("model.safetensors")), written);
        assertEquals(List.of("model.safetensors"), listDir());
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(dir)) {
            assertFalse(ckpt.isSharded());
            assertEquals(5, ckpt.names().size());
            assertEquals(Map.of(), ckpt.indexMetadata());
            assertEquals(META, ckpt.metadata());
        }
    }

    @Test
    void aTensorLargerThanTheShardLimitGetsAShardOfItsOwn() throws IOException {
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("a", Tensor.ofFloats(new float[4], 4));
        in.put("big", Tensor.ofFloats(new float[25], 25));
        in.put("c", Tensor.ofFloats(new float[4], 4));
        SafetensorsWriter.writeSharded(dir, "model", in, META, 40);
        // huggingface_hub emits the oversized tensor's shard at once and keeps filling the current one
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(dir)) {
            assertEquals(
                    "model-00001-of-00002.safetensors",
                    ckpt.fileOf("big").getFileName().toString());
            assertEquals(
                    "model-00002-of-00002.safetensors",
                    ckpt.fileOf("a").getFileName().toString());
            assertEquals(
                    "model-00002-of-00002.safetensors",
                    ckpt.fileOf("c").getFileName().toString());
            assertEquals("132", ckpt.indexMetadata().get("total_size"));
        }
    }

    @Test
    void rewritingRemovesStaleShardsSingleFileAndIndex() throws IOException {
        SafetensorsWriter.writeSharded(dir, "model", fiveTensors(), META, 40);
        Files.writeString(dir.resolve("config.json"), "{}");
        SafetensorsWriter.writeSharded(dir, "model", fiveTensors(), META, 1000);
        assertEquals(List.of("config.json", "model.safetensors"), listDir());
        SafetensorsWriter.writeSharded(dir, "model", fiveTensors(), META, 48);
        assertEquals(
                List.of(
                        "config.json",
                        "model-00001-of-00002.safetensors",
                        "model-00002-of-00002.safetensors",
                        "model.safetensors.index.json"),
                listDir());
    }

    @Test
    void rejectsAnIndexNamingAMissingShard() throws IOException {
        SafetensorsWriter.writeSharded(dir, "model", fiveTensors(), META, 40);
        Files.delete(dir.resolve("model-00002-of-00003.safetensors"));
        SafetensorsException e = rejects(
                dir,
                "shard 'model-00002-of-00003.safetensors' does not exist, "
                        + "but the index maps 2 tensors to it (e.g. 'c')");
        assertEquals(dir.resolve("model.safetensors.index.json"), e.file());
    }

    @Test
    void rejectsAShardHoldingATensorTheIndexDoesNotMapToIt() throws IOException {
        SafetensorsWriter.writeSharded(dir, "model", fiveTensors(), META, 40);
        Map<String, String> weightMap = new TreeMap<>(Map.of(
                "a",
                "model-00001-of-00003.safetensors",
                "b",
                "model-00001-of-00003.safetensors",
                "c",
                "model-00002-of-00003.safetensors",
                "e",
                "model-00003-of-00003.safetensors"));
        Files.writeString(dir.resolve("model.safetensors.index.json"), SafetensorsWriter.indexJson(80, weightMap));
        rejects(dir, "shard 'model-00002-of-00003.safetensors' holds 1 tensors the index does not map to it: 'd'");
    }

    @Test
    void rejectsAShardLackingATensorTheIndexMapsToIt() throws IOException {
        SafetensorsWriter.writeSharded(dir, "model", fiveTensors(), META, 40);
        Map<String, String> weightMap = new TreeMap<>(Map.of(
                "a",
                "model-00001-of-00003.safetensors",
                "b",
                "model-00001-of-00003.safetensors",
                "c",
                "model-00002-of-00003.safetensors",
                "d",
                "model-00002-of-00003.safetensors",
                "e",
                "model-00001-of-00003.safetensors"));
        Files.writeString(dir.resolve("model.safetensors.index.json"), SafetensorsWriter.indexJson(80, weightMap));
        rejects(dir, "shard 'model-00001-of-00003.safetensors' lacks 1 tensors the index maps to it: 'e'");
    }

    @Test
    void rejectsAShardPathOutsideTheIndexDirectory() throws IOException {
        Files.writeString(
                dir.resolve("model.safetensors.index.json"),
                SafetensorsWriter.indexJson(4, Map.of("a", "../elsewhere.safetensors")));
        rejects(dir, "shard '../elsewhere.safetensors' is not a file name in the index's directory");
    }

    @Test
    void rejectsAnIndexWithDuplicateTensorNames() throws IOException {
        Files.writeString(
                dir.resolve("model.safetensors.index.json"),
                "{\"weight_map\": {\"a\": \"x.safetensors\", \"a\": \"y.safetensors\"}}");
        rejects(dir, "index is not valid JSON: Duplicate field 'a'");
    }

    @Test
    void rejectsAnIndexWithoutAWeightMap() throws IOException {
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"metadata\": {}}");
        rejects(dir, "index has no \"weight_map\" object");
    }

    @Test
    void refusesPickleCheckpointsNamingTheFix() throws IOException {
        Files.write(dir.resolve("pytorch_model.bin"), new byte[] {(byte) 0x80, 2});
        rejects(dir, "PyTorch pickle checkpoints are never read");
        rejects(dir.resolve("pytorch_model.bin"), "model.save_pretrained(dir, safe_serialization=True)");
    }

    @Test
    void rejectsADirectoryWithoutWeights() throws IOException {
        Files.writeString(dir.resolve("config.json"), "{}");
        rejects(dir, "expected model.safetensors or model.safetensors.index.json");
    }

    @Test
    void opensALoneSafetensorsFileWithAnotherBaseName() throws IOException {
        SafetensorsWriter.writeSharded(dir, "adapter_model", fiveTensors(), Map.of(), 1 << 20);
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(dir)) {
            assertEquals(dir.resolve("adapter_model.safetensors"), ckpt.path());
        }
    }

    @Test
    void unknownTensorNameIsReportedWithTheCheckpointPath() throws IOException {
        SafetensorsWriter.writeSharded(dir, "model", fiveTensors(), META, 40);
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(dir)) {
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> ckpt.tensor("zz"));
            assertEquals(
                    dir.resolve("model.safetensors.index.json") + ": no tensor named 'zz' in this checkpoint "
                            + "(5 tensors)",
                    e.getMessage());
        }
    }
}
