package io.sparkformers.pipeline;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.convert.BuiltinModels;
import io.sparkformers.hub.HfCheckpointWriter;
import io.sparkformers.hub.SentencePooling;
import io.sparkformers.hub.TokenizerConfig;
import io.sparkformers.nn.AutoModels;
import io.sparkformers.nn.PretrainedModel;
import io.sparkformers.nn.Task;
import io.sparkformers.nn.bert.BertConfig;
import io.sparkformers.safetensors.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Tiny BERT checkpoints with fixed weights for pipeline tests: 2 layers, 32 wide, the bert-base-uncased vocabulary
 * and tokenizer (from all-MiniLM-L6-v2). Encoder weights are fixed sines; a head's weight is zero and its bias is
 * given, so the head's logits equal that bias for every input and every token whatever the encoder computes (or, with
 * a non-zero {@code headWeightScale}, the head's weight is the fixed sines times that scale, so logits vary by input).
 * Public for the Spark stage tests.
 */
public final class TinyCheckpoints {
    private TinyCheckpoints() {}

    public static BertConfig config(Map<Integer, String> id2label, String problemType) {
        return new BertConfig(
                30522,
                32,
                2,
                4,
                37,
                "gelu",
                0.1,
                0.1,
                512,
                2,
                0.02,
                1e-12,
                0,
                "absolute",
                "bert",
                null,
                id2label,
                problemType,
                null,
                null);
    }

    /**
     * Writes a checkpoint folder for {@code task}.
     *
     * @param headPrefix the head's Linear ({@code classifier} or {@code qa_outputs}), null for none
     * @param headBias   that Linear's bias: the logits of every row / token
     */
    public static Path write(
            Path dir,
            Task task,
            BertConfig config,
            String headPrefix,
            float[] headBias,
            Optional<SentencePooling> pooling)
            throws IOException {
        return write(dir, task, config, headPrefix, headBias, pooling, 0f);
    }

    /** As {@link #write(Path, Task, BertConfig, String, float[], Optional)}, the head's weight scaled sines. */
    public static Path write(
            Path dir,
            Task task,
            BertConfig config,
            String headPrefix,
            float[] headBias,
            Optional<SentencePooling> pooling,
            float headWeightScale)
            throws IOException {
        ObjectNode json = config.toJson();
        PretrainedModel block = task == Task.SENTENCE_EMBEDDING
                ? AutoModels.sentenceEmbedding(json, pooling.orElseThrow())
                : AutoModels.fromConfig(json, task);
        Map<String, Tensor> weights = new LinkedHashMap<>();
        try (NDManager m = NDManager.newBaseManager()) {
            block.initialize(m);
            int k = 0;
            for (var e : io.sparkformers.nn.StateDict.of(block).entrySet()) {
                long[] shape = e.getValue().shape();
                float[] v = new float[(int) Tensor.numel(shape)];
                k++;
                boolean norm = e.getKey().endsWith("LayerNorm.weight");
                for (int i = 0; i < v.length; i++) {
                    double s = Math.sin(0.37 * i + 1.3 * k) * 0.05;
                    v[i] = (float) (norm ? 1 + s : s);
                }
                if (headPrefix != null && e.getKey().equals(headPrefix + ".weight")) {
                    for (int i = 0; i < v.length; i++) v[i] = v[i] * 20 * headWeightScale;
                }
                if (headPrefix != null && e.getKey().equals(headPrefix + ".bias")) v = headBias.clone();
                weights.put(e.getKey(), Tensor.ofFloats(v, shape));
            }
        }
        if (task == Task.SENTENCE_EMBEDDING) {
            // sentence-transformers checkpoints store the bare encoder's keys
            Map<String, Tensor> bare = new LinkedHashMap<>();
            weights.forEach((name, t) -> bare.put(name.startsWith("bert.") ? name.substring(5) : name, t));
            weights = bare;
        }
        HfCheckpointWriter.write(
                dir,
                json,
                weights,
                Files.readAllBytes(miniLm().resolve("tokenizer.json")),
                TokenizerConfig.bertUncased(512),
                pooling);
        return dir;
    }

    public static Path miniLm() throws IOException {
        return BuiltinModels.resolve(BuiltinModels.get("all-MiniLM-L6-v2"));
    }
}
