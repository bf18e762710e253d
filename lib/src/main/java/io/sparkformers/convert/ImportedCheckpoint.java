package io.sparkformers.convert;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.SentencePooling;
import io.sparkformers.safetensors.Tensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The content of an HF checkpoint directory produced by an importer, in memory: the caller writes
 * {@code model.safetensors}, {@code config.json}, {@code tokenizer.json}, {@code tokenizer_config.json} and, for
 * sentence-embedding models, {@code modules.json} and {@code 1_Pooling/config.json}.
 *
 * @param weights         parameters under their exact HF names, in HF module order; tensors may view a mapped
 *                        file or the source model's bytes (no copy where no transpose is needed)
 * @param config          HF {@code config.json} content
 * @param tokenizerJson   HF tokenizers-format {@code tokenizer.json} bytes
 * @param tokenizerConfig suggested {@code tokenizer_config.json} content
 * @param pooling         how sentence-transformers pools this model, when the source is a known embedding model
 */
public record ImportedCheckpoint(
        Map<String, Tensor> weights,
        ObjectNode config,
        byte[] tokenizerJson,
        ObjectNode tokenizerConfig,
        Optional<SentencePooling> pooling) {

    public ImportedCheckpoint {
        weights = Collections.unmodifiableMap(new LinkedHashMap<>(weights));
        tokenizerJson = tokenizerJson.clone();
    }

    @Override
    public byte[] tokenizerJson() {
        return tokenizerJson.clone();
    }

    /** Total number of parameters (elements) over all weights. */
    public long parameterCount() {
        return weights.values().stream().mapToLong(Tensor::numel).sum();
    }
}
