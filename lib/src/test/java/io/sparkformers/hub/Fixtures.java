package io.sparkformers.hub;

import io.sparkformers.safetensors.SafetensorsWriter;
import io.sparkformers.safetensors.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Tiny checkpoints as file maps (name → bytes), for the fake Hub and for folders on disk. */
final class Fixtures {
    private Fixtures() {}

    static final String CONFIG = "{\"model_type\": \"bert\", \"architectures\": [\"BertForSequenceClassification\"], "
            + "\"hidden_size\": 4, \"max_position_embeddings\": 16, \"id2label\": {\"0\": \"neg\", \"1\": \"pos\"}}";

    /** A checkpoint whose weights are {@code floats} values starting at {@code first}, plus the usual side files. */
    static Map<String, byte[]> model(float first, int floats) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("config.json", utf8(CONFIG));
        files.put("model.safetensors", safetensors(first, floats));
        files.put("tokenizer.json", utf8("{\"version\": \"1.0\"}"));
        files.put(
                "tokenizer_config.json",
                utf8(Json.MAPPER.writeValueAsString(
                        TokenizerConfig.bertUncased(16).toJson())));
        files.put(
                "modules.json",
                utf8(
                        "[{\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": \"sentence_transformers.models.Transformer\"},"
                                + " {\"idx\": 1, \"name\": \"1\", \"path\": \"1_Pooling\", \"type\": \"sentence_transformers.models.Pooling\"}]"));
        files.put(
                "1_Pooling/config.json",
                utf8("{\"word_embedding_dimension\": 4, \"pooling_mode_cls_token\": false, "
                        + "\"pooling_mode_mean_tokens\": true}"));
        return files;
    }

    static byte[] safetensors(float first, int floats) throws IOException {
        float[] w = new float[floats];
        for (int i = 0; i < floats; i++) w[i] = first + i;
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("bert.embeddings.word_embeddings.weight", Tensor.ofFloats(w, floats / 4, 4));
        tensors.put("classifier.bias", Tensor.ofFloats(new float[] {first, -first}, 2));
        Path tmp = Files.createTempFile("fixture", ".safetensors");
        try {
            SafetensorsWriter.write(tmp, tensors, Map.of("format", "pt"));
            return Files.readAllBytes(tmp);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static Path write(Path dir, Map<String, byte[]> files) throws IOException {
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            Path p = dir.resolve(f.getKey());
            Files.createDirectories(p.getParent());
            Files.write(p, f.getValue());
        }
        return dir;
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
