package io.sparkformers.nn.llama;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.nn.ConfigJson;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * HF {@code LlamaConfig}, {@code MistralConfig} and {@code Qwen2Config} as one immutable validated value: the three
 * are the same decoder and differ only in defaults, biases and sliding windows (a field per variant, documented
 * below). JSON keys on disk are HF's; keys not modelled here are kept in {@code extra} and written back. Values this
 * port does not implement (another activation, {@code pretraining_tp} != 1, {@code partial_rotary_factor} != 1,
 * rope types other than default/linear/dynamic/llama3, quantised weights) are refused.
 *
 * @param modelType             {@code llama}, {@code mistral} or {@code qwen2} (HF {@code model_type})
 * @param vocabSize             rows of the token embedding and of the head (HF {@code vocab_size}; 32000, qwen2 151936)
 * @param hiddenSize            width of every hidden state (HF {@code hidden_size}, default 4096)
 * @param intermediateSize      SwiGLU width (HF {@code intermediate_size}; llama 11008, mistral 14336, qwen2 22016)
 * @param numHiddenLayers       decoder layers (HF {@code num_hidden_layers}, default 32)
 * @param numAttentionHeads     query heads (HF {@code num_attention_heads}, default 32)
 * @param numKeyValueHeads      key/value heads, dividing the query heads: grouped-query attention (HF
 *                              {@code num_key_value_heads}; default num_attention_heads, mistral 8)
 * @param headDim               width of one head (HF {@code head_dim}, default hidden_size / num_attention_heads)
 * @param maxPositionEmbeddings context the model was trained for; dynamic rope scaling starts past it (HF
 *                              {@code max_position_embeddings}; llama 2048, mistral 131072, qwen2 32768)
 * @param rmsNormEps            RMSNorm epsilon (HF {@code rms_norm_eps}, default 1e-6)
 * @param ropeTheta             rotary base (HF {@code rope_theta}, default 10000)
 * @param ropeScaling           HF {@code rope_scaling}, or null for plain rotary embeddings
 * @param tieWordEmbeddings     the head reuses the token embedding (HF {@code tie_word_embeddings}, default false)
 * @param attentionBias         llama: biases on q/k/v/o_proj (HF {@code attention_bias}, default false); qwen2: always
 *                              true and on q/k/v only (its o_proj has none); mistral: always false
 * @param mlpBias               biases on gate/up/down_proj, llama only (HF {@code mlp_bias}, default false)
 * @param slidingWindow         mistral: every layer attends to the last {@code sliding_window} positions (HF
 *                              {@code sliding_window}, default 4096, null for full attention); qwen2: the window of
 *                              its sliding layers, null unless {@code use_sliding_window}; llama: null
 * @param layerTypes            per layer {@code full_attention} or {@code sliding_attention} (HF {@code layer_types};
 *                              qwen2 derives it: sliding from layer {@code max_window_layers} on when
 *                              {@code use_sliding_window}; mistral: all sliding when a window is set)
 * @param maxWindowLayers       qwen2: layers below this index attend fully (HF {@code max_window_layers}, 28)
 * @param initializerRange      std of the normal init of new weights (HF {@code initializer_range}, default 0.02)
 * @param padTokenId            padding token id, the embedding's padding row (HF {@code pad_token_id}, or null)
 * @param extra                 every other key of config.json (token ids, use_cache, …), written back unchanged
 */
public record LlamaConfig(
        String modelType,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int headDim,
        int maxPositionEmbeddings,
        double rmsNormEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        boolean tieWordEmbeddings,
        boolean attentionBias,
        boolean mlpBias,
        Integer slidingWindow,
        List<String> layerTypes,
        int maxWindowLayers,
        double initializerRange,
        Integer padTokenId,
        ObjectNode extra) {

    /** The {@code model_type} values this config serves. */
    public static final List<String> MODEL_TYPES = List.of("llama", "mistral", "qwen2");

    static final String FULL = "full_attention";
    static final String SLIDING = "sliding_attention";

    /**
     * HF {@code rope_scaling}: how the rotary frequencies are stretched for longer contexts.
     *
     * @param ropeType                      {@code linear} (positions divided by factor), {@code dynamic} (NTK base
     *                                      grown once a sequence passes max_position_embeddings) or {@code llama3}
     *                                      (low frequencies divided by factor, high ones kept, a smooth band between)
     * @param factor                        the stretch (> 0)
     * @param lowFreqFactor                 llama3: {@code low_freq_factor}, else null
     * @param highFreqFactor                llama3: {@code high_freq_factor} (> low_freq_factor), else null
     * @param originalMaxPositionEmbeddings llama3: {@code original_max_position_embeddings}, else null
     */
    public record RopeScaling(
            String ropeType,
            double factor,
            Double lowFreqFactor,
            Double highFreqFactor,
            Integer originalMaxPositionEmbeddings) {

        /** The rope types this port implements. */
        public static final List<String> SUPPORTED = List.of("linear", "dynamic", "llama3");

        public RopeScaling {
            if (!SUPPORTED.contains(ropeType)) {
                throw new IllegalArgumentException("rope_scaling type '" + ropeType
                        + "' is not supported (supported: default, " + SUPPORTED + ")");
            }
            if (!(factor > 0)) throw new IllegalArgumentException("rope_scaling factor must be > 0 but is " + factor);
            if ("llama3".equals(ropeType)) {
                if (lowFreqFactor == null || highFreqFactor == null || originalMaxPositionEmbeddings == null) {
                    throw new IllegalArgumentException("rope_scaling llama3 needs low_freq_factor, high_freq_factor "
                            + "and original_max_position_embeddings");
                }
                if (!(highFreqFactor > lowFreqFactor)) {
                    throw new IllegalArgumentException("rope_scaling llama3 needs high_freq_factor (" + highFreqFactor
                            + ") > low_freq_factor (" + lowFreqFactor + ")");
                }
            } else if (lowFreqFactor != null || highFreqFactor != null || originalMaxPositionEmbeddings != null) {
                throw new IllegalArgumentException("rope_scaling " + ropeType + " takes only a factor");
            }
        }

        static RopeScaling fromJson(JsonNode n) {
            if (n == null || n.isNull()) return null;
            if (!n.isObject()) throw new IllegalArgumentException("config key 'rope_scaling' must be an object: " + n);
            JsonNode t = n.has("rope_type") ? n.get("rope_type") : n.get("type");
            String type = t == null ? null : t.asText();
            if ("default".equals(type)) return null;
            Set<String> known = Set.of(
                    "rope_type",
                    "type",
                    "factor",
                    "low_freq_factor",
                    "high_freq_factor",
                    "original_max_position_embeddings");
            for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!known.contains(k)) {
                    throw new IllegalArgumentException("rope_scaling key '" + k + "' is not supported (type " + type
                            + "; supported keys: " + known + ")");
                }
            }
            if (!n.path("factor").isNumber()) {
                throw new IllegalArgumentException("rope_scaling needs a numeric 'factor': " + n);
            }
            return new RopeScaling(
                    type,
                    n.get("factor").doubleValue(),
                    n.has("low_freq_factor") ? n.get("low_freq_factor").doubleValue() : null,
                    n.has("high_freq_factor") ? n.get("high_freq_factor").doubleValue() : null,
                    n.has("original_max_position_embeddings")
                            ? n.get("original_max_position_embeddings").intValue()
                            : null);
        }

        ObjectNode toJson() {
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            o.put("factor", factor);
            if (highFreqFactor != null) o.put("high_freq_factor", highFreqFactor);
            if (lowFreqFactor != null) o.put("low_freq_factor", lowFreqFactor);
            if (originalMaxPositionEmbeddings != null)
                o.put("original_max_position_embeddings", originalMaxPositionEmbeddings);
            o.put("rope_type", ropeType);
            return o;
        }
    }

    public LlamaConfig {
        if (!MODEL_TYPES.contains(modelType)) {
            throw new IllegalArgumentException(
                    "model_type '" + modelType + "' is not a Llama-family decoder (supported: " + MODEL_TYPES + ")");
        }
        for (var e : Map.of(
                        "vocab_size", vocabSize,
                        "hidden_size", hiddenSize,
                        "intermediate_size", intermediateSize,
                        "num_hidden_layers", numHiddenLayers,
                        "num_attention_heads", numAttentionHeads,
                        "num_key_value_heads", numKeyValueHeads,
                        "head_dim", headDim,
                        "max_position_embeddings", maxPositionEmbeddings)
                .entrySet()) {
            if (e.getValue() <= 0)
                throw new IllegalArgumentException(e.getKey() + " must be > 0 but is " + e.getValue());
        }
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads (" + numAttentionHeads
                    + ") is not a multiple of num_key_value_heads (" + numKeyValueHeads + ")");
        }
        if (headDim % 2 != 0)
            throw new IllegalArgumentException("head_dim must be even for rotary embeddings: " + headDim);
        if (!(rmsNormEps > 0)) throw new IllegalArgumentException("rms_norm_eps must be > 0 but is " + rmsNormEps);
        if (!(ropeTheta > 0)) throw new IllegalArgumentException("rope_theta must be > 0 but is " + ropeTheta);
        if (slidingWindow != null && slidingWindow <= 0) {
            throw new IllegalArgumentException("sliding_window must be > 0 but is " + slidingWindow);
        }
        if ("mistral".equals(modelType) && (attentionBias || mlpBias)) {
            throw new IllegalArgumentException("mistral has no attention or MLP biases");
        }
        if ("qwen2".equals(modelType) && (!attentionBias || mlpBias)) {
            throw new IllegalArgumentException("qwen2 has q/k/v biases and no MLP biases");
        }
        if ("llama".equals(modelType) && slidingWindow != null) {
            throw new IllegalArgumentException("llama has no sliding window (sliding_window " + slidingWindow + ")");
        }
        layerTypes = List.copyOf(layerTypes);
        if (layerTypes.size() != numHiddenLayers) {
            throw new IllegalArgumentException("layer_types has " + layerTypes.size() + " entries for "
                    + numHiddenLayers + " layers: " + layerTypes);
        }
        for (String t : layerTypes) {
            if (!FULL.equals(t) && !SLIDING.equals(t)) {
                throw new IllegalArgumentException(
                        "layer_types entry '" + t + "' is not supported (supported: " + FULL + ", " + SLIDING + ")");
            }
            if (SLIDING.equals(t) && slidingWindow == null) {
                throw new IllegalArgumentException("layer_types has " + SLIDING + " but sliding_window is null");
            }
        }
        extra = extra == null ? JsonNodeFactory.instance.objectNode() : extra.deepCopy();
    }

    /** A tiny random-weight Llama for tests: hidden 32, 2 layers, 4 heads over 2 key/value heads, vocab 128. */
    public static LlamaConfig tiny() {
        return new LlamaConfig(
                "llama",
                128,
                32,
                64,
                2,
                4,
                2,
                8,
                64,
                1e-6,
                10000,
                null,
                false,
                false,
                false,
                null,
                List.of(FULL, FULL),
                28,
                0.02,
                null,
                null);
    }

    /** Biases on q_proj, k_proj and v_proj. */
    public boolean qkvBias() {
        return attentionBias;
    }

    /** A bias on o_proj (llama with attention_bias; qwen2's o_proj has none). */
    public boolean outputBias() {
        return attentionBias && "llama".equals(modelType);
    }

    /** The window of layer {@code layer} in positions, or null when it attends to the whole prefix. */
    public Integer slidingWindow(int layer) {
        return SLIDING.equals(layerTypes.get(layer)) ? slidingWindow : null;
    }

    /** HF's class name for the causal LM of this model type, as save_pretrained writes it in architectures. */
    public String causalLmArchitecture() {
        return switch (modelType) {
            case "mistral" -> "MistralForCausalLM";
            case "qwen2" -> "Qwen2ForCausalLM";
            default -> "LlamaForCausalLM";
        };
    }

    /** Parses an HF config.json object of model_type llama, mistral or qwen2; absent keys take that type's defaults. */
    public static LlamaConfig fromJson(JsonNode json) {
        ConfigJson r = ConfigJson.reading(json);
        String type = r.stringOr("model_type", null);
        if (!MODEL_TYPES.contains(type)) {
            throw new IllegalArgumentException(
                    "model_type '" + type + "' is not a Llama-family decoder (supported: " + MODEL_TYPES + ")");
        }
        boolean mistral = "mistral".equals(type);
        boolean qwen2 = "qwen2".equals(type);
        int hidden = r.intOr("hidden_size", 4096);
        int heads = r.intOr("num_attention_heads", 32);
        int layers = r.intOr("num_hidden_layers", 32);
        Integer kv = r.intOrNull("num_key_value_heads");
        Integer headDim = r.intOrNull("head_dim");
        if (headDim == null && hidden % heads != 0) {
            throw new IllegalArgumentException("hidden_size (" + hidden + ") is not a multiple of num_attention_heads ("
                    + heads + ") and head_dim is not set");
        }
        String act = r.stringOr("hidden_act", "silu");
        if (!"silu".equals(act)) {
            throw new IllegalArgumentException(
                    "hidden_act '" + act + "' is not supported for " + type + " (only silu)");
        }
        int tp = r.intOr("pretraining_tp", 1);
        if (tp != 1) throw new IllegalArgumentException("pretraining_tp " + tp + " is not supported (only 1)");
        double partial = r.doubleOr("partial_rotary_factor", 1.0);
        if (partial != 1.0) {
            throw new IllegalArgumentException("partial_rotary_factor " + partial + " is not supported (only 1.0)");
        }
        ObjectNode rest0 = r.remaining();
        if (rest0.hasNonNull("quantization_config")) {
            throw new IllegalArgumentException("quantized checkpoints (quantization_config) are not supported");
        }
        RopeScaling scaling = RopeScaling.fromJson(rest0.get("rope_scaling"));
        boolean attentionBias = qwen2 || r.boolOr("attention_bias", false);
        boolean mlpBias = r.boolOr("mlp_bias", false);
        Integer window = null;
        int maxWindowLayers = 28;
        List<String> layerTypes = null;
        if (mistral) {
            window = json.has("sliding_window") ? r.intOrNull("sliding_window") : Integer.valueOf(4096);
        } else if (qwen2) {
            boolean use = r.boolOr("use_sliding_window", false);
            Integer w = json.has("sliding_window") ? r.intOrNull("sliding_window") : Integer.valueOf(4096);
            window = use ? w : null;
            maxWindowLayers = r.intOr("max_window_layers", 28);
        }
        List<String> given = r.stringsOrNull("layer_types");
        if (given != null) {
            layerTypes = given;
        } else {
            layerTypes = new ArrayList<>();
            for (int i = 0; i < layers; i++) {
                boolean sliding = window != null && (mistral || i >= maxWindowLayers);
                layerTypes.add(sliding ? SLIDING : FULL);
            }
        }
        r.stringOr("dtype", null); // the dtype the weights were saved in; we compute in float32
        r.stringOr("torch_dtype", null);
        return new LlamaConfig(
                type,
                r.intOr("vocab_size", qwen2 ? 151936 : 32000),
                hidden,
                r.intOr("intermediate_size", mistral ? 14336 : qwen2 ? 22016 : 11008),
                layers,
                heads,
                kv == null ? (mistral ? 8 : heads) : kv,
                headDim == null ? hidden / heads : headDim,
                r.intOr("max_position_embeddings", mistral ? 4096 * 32 : qwen2 ? 32768 : 2048),
                r.doubleOr("rms_norm_eps", 1e-6),
                r.doubleOr("rope_theta", 10000.0),
                scaling,
                r.boolOr("tie_word_embeddings", false),
                attentionBias,
                mlpBias,
                window,
                layerTypes,
                maxWindowLayers,
                r.doubleOr("initializer_range", 0.02),
                r.intOrNull("pad_token_id"),
                withoutKnown(r.remaining()));
    }

    /** Drops keys read through the raw node (not consumed by a typed getter). */
    private static ObjectNode withoutKnown(ObjectNode rest) {
        rest.remove("rope_scaling");
        rest.remove("model_type");
        return rest;
    }

    /** The HF config.json object for this model type, keys sorted, unknown keys kept. */
    public ObjectNode toJson() {
        TreeMap<String, JsonNode> all = new TreeMap<>();
        extra.fields().forEachRemaining(e -> all.put(e.getKey(), e.getValue().deepCopy()));
        JsonNodeFactory f = JsonNodeFactory.instance;
        all.put("model_type", f.textNode(modelType));
        all.put("vocab_size", f.numberNode(vocabSize));
        all.put("hidden_size", f.numberNode(hiddenSize));
        all.put("intermediate_size", f.numberNode(intermediateSize));
        all.put("num_hidden_layers", f.numberNode(numHiddenLayers));
        all.put("num_attention_heads", f.numberNode(numAttentionHeads));
        all.put("num_key_value_heads", f.numberNode(numKeyValueHeads));
        all.put("head_dim", f.numberNode(headDim));
        all.put("hidden_act", f.textNode("silu"));
        all.put("max_position_embeddings", f.numberNode(maxPositionEmbeddings));
        all.put("rms_norm_eps", f.numberNode(rmsNormEps));
        all.put("rope_theta", f.numberNode(ropeTheta));
        all.put("rope_scaling", ropeScaling == null ? f.nullNode() : ropeScaling.toJson());
        all.put("tie_word_embeddings", f.booleanNode(tieWordEmbeddings));
        all.put("initializer_range", f.numberNode(initializerRange));
        if (padTokenId != null) all.put("pad_token_id", f.numberNode(padTokenId));
        all.put("dtype", f.textNode("float32"));
        switch (modelType) {
            case "llama" -> {
                all.put("attention_bias", f.booleanNode(attentionBias));
                all.put("mlp_bias", f.booleanNode(mlpBias));
                all.put("pretraining_tp", f.numberNode(1));
            }
            case "mistral" ->
                all.put("sliding_window", slidingWindow == null ? f.nullNode() : f.numberNode(slidingWindow));
            default -> {
                all.put("use_sliding_window", f.booleanNode(slidingWindow != null));
                all.put("sliding_window", slidingWindow == null ? f.nullNode() : f.numberNode(slidingWindow));
                all.put("max_window_layers", f.numberNode(maxWindowLayers));
                var types = f.arrayNode();
                layerTypes.forEach(types::add);
                all.put("layer_types", types);
            }
        }
        ObjectNode out = f.objectNode();
        all.forEach(out::set);
        return out;
    }
}
