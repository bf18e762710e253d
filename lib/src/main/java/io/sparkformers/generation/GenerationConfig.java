package io.sparkformers.generation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * HF {@code GenerationConfig}: how {@link Generator} decodes. Built from a checkpoint's {@code generation_config.json}
 * with the call's options on top (call options win, as in HF's {@code generate(**kwargs)}); keys are HF's. Values we
 * do not implement (beam groups, contrastive search, guidance, ...) are refused when set.
 *
 * @param maxNewTokens       tokens to generate, prompt excluded (HF {@code max_new_tokens}); null: use maxLength
 * @param maxLength          total length, prompt included, when maxNewTokens is null (HF {@code max_length}, 20)
 * @param minNewTokens       eos is banned until this many tokens are new (HF {@code min_new_tokens}, 0)
 * @param minLength          eos is banned until the sequence has this length (HF {@code min_length}, 0)
 * @param doSample           sample instead of taking the best token (HF {@code do_sample}, false)
 * @param temperature        logits divided by this when sampling (HF {@code temperature}, 1.0, > 0)
 * @param topK               keep the k best tokens when sampling, 0 = off (HF {@code top_k}, 50)
 * @param topP               keep the smallest set of tokens with this much probability when sampling (HF
 *                           {@code top_p}, 1.0 = off)
 * @param minP               drop tokens below minP × the best probability when sampling (HF {@code min_p}, null = off)
 * @param typicalP           locally typical sampling mass (HF {@code typical_p}, 1.0 = off)
 * @param repetitionPenalty  seen tokens' logits divided (positive) or multiplied (negative) by this (HF
 *                           {@code repetition_penalty}, 1.0 = off)
 * @param noRepeatNgramSize  no n-gram of this size occurs twice (HF {@code no_repeat_ngram_size}, 0 = off)
 * @param badWordsIds        token sequences never generated (HF {@code bad_words_ids})
 * @param numBeams           beams of beam search, 1 = greedy or sampling (HF {@code num_beams}, 1)
 * @param lengthPenalty      beam scores divided by length^this (HF {@code length_penalty}, 1.0)
 * @param earlyStopping      beam search stop rule: "true", "false" or "never" (HF {@code early_stopping}, false)
 * @param numReturnSequences sequences returned per prompt (HF {@code num_return_sequences}, 1; ≤ numBeams for beams)
 * @param eosTokenIds        tokens that end a sequence (HF {@code eos_token_id}, one or a list; may be empty)
 * @param padTokenId         filler after a sequence ends (HF {@code pad_token_id}; null: the first eos, as HF)
 * @param stopStrings        texts that end a sequence when the output ends with them (HF {@code stop_strings})
 * @param seed               seed of the sampling RNG (ours: HF uses torch's global RNG), default 0
 * @param forcedBosTokenId   the token forced as the first generated one (HF {@code forced_bos_token_id}, null = off)
 * @param forcedEosTokenIds  the tokens forced when max_length is one step away (HF {@code forced_eos_token_id},
 *                           empty = off)
 * @param decoderStartTokenId encoder-decoders: the token every decoder sequence starts with (HF
 *                           {@code decoder_start_token_id}; from config.json when the generation config has none)
 */
public record GenerationConfig(
        Integer maxNewTokens,
        int maxLength,
        int minNewTokens,
        int minLength,
        boolean doSample,
        double temperature,
        int topK,
        double topP,
        Double minP,
        double typicalP,
        double repetitionPenalty,
        int noRepeatNgramSize,
        List<long[]> badWordsIds,
        int numBeams,
        double lengthPenalty,
        String earlyStopping,
        int numReturnSequences,
        long[] eosTokenIds,
        Long padTokenId,
        List<String> stopStrings,
        long seed,
        Long forcedBosTokenId,
        long[] forcedEosTokenIds,
        Long decoderStartTokenId) {

    /**
     * HF GenerationConfig keys that select features we do not implement, with the value that means "off" (null: any
     * value is a use); a key set to anything else is refused.
     */
    static final Map<String, Double> UNSUPPORTED = unsupported();

    private static Map<String, Double> unsupported() {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("num_beam_groups", 1.0);
        m.put("diversity_penalty", 0.0);
        m.put("encoder_repetition_penalty", 1.0);
        m.put("epsilon_cutoff", 0.0);
        m.put("eta_cutoff", 0.0);
        m.put("encoder_no_repeat_ngram_size", 0.0);
        for (String k : List.of(
                "penalty_alpha",
                "guidance_scale",
                "constraints",
                "force_words_ids",
                "sequence_bias",
                "suppress_tokens",
                "begin_suppress_tokens",
                "exponential_decay_length_penalty",
                "prompt_lookup_num_tokens",
                "watermarking_config")) {
            m.put(k, null);
        }
        return Collections.unmodifiableMap(m);
    }

    /**
     * Most sequences one prompt may expand to ({@code num_beams}, {@code num_return_sequences}): every one holds its
     * own key/value cache, so a prompt asking for 10^6 would allocate 10^6 caches before the first token.
     */
    public static final int MAX_SEQUENCES_PER_PROMPT = 256;

    /**
     * Most tokens {@code max_new_tokens} and {@code max_length} may ask for: above every model's position table (the
     * model's own limit still applies), and far from int overflow of prompt + new tokens.
     */
    public static final int MAX_TOKENS = 1 << 20;

    public GenerationConfig {
        if (maxNewTokens != null && maxNewTokens <= 0)
            throw new IllegalArgumentException("max_new_tokens must be > 0 but was " + maxNewTokens);
        if (maxLength <= 0) throw new IllegalArgumentException("max_length must be > 0 but was " + maxLength);
        if (maxNewTokens != null && maxNewTokens > MAX_TOKENS)
            throw new IllegalArgumentException("max_new_tokens must be <= " + MAX_TOKENS + " but was " + maxNewTokens);
        if (maxLength > MAX_TOKENS)
            throw new IllegalArgumentException("max_length must be <= " + MAX_TOKENS + " but was " + maxLength);
        if (numBeams > MAX_SEQUENCES_PER_PROMPT) {
            throw new IllegalArgumentException("num_beams must be <= " + MAX_SEQUENCES_PER_PROMPT + " (each beam holds "
                    + "its own key/value cache) but was " + numBeams);
        }
        if (numReturnSequences > MAX_SEQUENCES_PER_PROMPT) {
            throw new IllegalArgumentException("num_return_sequences must be <= " + MAX_SEQUENCES_PER_PROMPT + " (each "
                    + "sequence holds its own key/value cache) but was " + numReturnSequences);
        }
        if (!(temperature > 0)) {
            throw new IllegalArgumentException(
                    "temperature must be > 0 but was " + temperature + " (for greedy decoding set do_sample=false)");
        }
        if (topK < 0) throw new IllegalArgumentException("top_k must be >= 0 but was " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top_p must be in (0, 1] but was " + topP);
        if (minP != null && !(minP >= 0 && minP <= 1))
            throw new IllegalArgumentException("min_p must be in [0, 1] but was " + minP);
        if (!(typicalP > 0 && typicalP <= 1))
            throw new IllegalArgumentException("typical_p must be in (0, 1] but was " + typicalP);
        if (!(repetitionPenalty > 0))
            throw new IllegalArgumentException("repetition_penalty must be > 0 but was " + repetitionPenalty);
        if (numBeams <= 0) throw new IllegalArgumentException("num_beams must be > 0 but was " + numBeams);
        if (numReturnSequences <= 0)
            throw new IllegalArgumentException("num_return_sequences must be > 0 but was " + numReturnSequences);
        if (numBeams > 1 && numReturnSequences > numBeams) {
            throw new IllegalArgumentException(
                    "num_return_sequences (" + numReturnSequences + ") must be <= num_beams (" + numBeams + ")");
        }
        if (numBeams == 1 && !doSample && numReturnSequences > 1) {
            throw new IllegalArgumentException("greedy search returns one sequence per prompt: num_return_sequences "
                    + numReturnSequences + " needs do_sample=true or num_beams > 1");
        }
        if (!List.of("true", "false", "never").contains(earlyStopping)) {
            throw new IllegalArgumentException(
                    "early_stopping must be true, false or \"never\" but was " + earlyStopping);
        }
        badWordsIds = badWordsIds == null ? List.of() : List.copyOf(badWordsIds);
        eosTokenIds = eosTokenIds == null ? new long[0] : eosTokenIds.clone();
        stopStrings = stopStrings == null ? List.of() : List.copyOf(stopStrings);
        forcedEosTokenIds = forcedEosTokenIds == null ? new long[0] : forcedEosTokenIds.clone();
    }

    /** HF's defaults (max_length 20, greedy). */
    public static GenerationConfig defaults() {
        return fromJson(new ObjectMapper().createObjectNode());
    }

    /** A checkpoint's generation_config.json (HF defaults when the folder has none), with {@code options} on top. */
    public static GenerationConfig forCheckpoint(Path dir, JsonNode options) throws IOException {
        return forCheckpoint(dir, null, options);
    }

    /**
     * As {@link #forCheckpoint(Path, JsonNode)} over a caller's defaults, which the checkpoint's values replace (HF
     * pipelines' {@code _default_generation_config}, e.g. max_new_tokens 256 for text-generation).
     */
    public static GenerationConfig forCheckpoint(Path dir, JsonNode defaults, JsonNode options) throws IOException {
        Path file = dir.resolve("generation_config.json");
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode merged = defaults == null ? mapper.createObjectNode() : ((ObjectNode) defaults).deepCopy();
        if (Files.exists(file)) {
            ObjectNode fromFile = (ObjectNode) mapper.readTree(file.toFile());
            if (fromFile.has("max_length")) merged.remove("max_new_tokens");
            merged.setAll(fromFile);
        }
        if (!merged.has("eos_token_id") || merged.get("eos_token_id").isNull()) {
            JsonNode config = mapper.readTree(dir.resolve("config.json").toFile());
            if (config.hasNonNull("eos_token_id")) merged.set("eos_token_id", config.get("eos_token_id"));
        }
        if (!merged.hasNonNull("decoder_start_token_id")) {
            JsonNode config = mapper.readTree(dir.resolve("config.json").toFile());
            if (config.hasNonNull("decoder_start_token_id"))
                merged.set("decoder_start_token_id", config.get("decoder_start_token_id"));
        }
        if (options != null) {
            if (options.has("max_length") && !options.has("max_new_tokens")) merged.remove("max_new_tokens");
            options.fields().forEachRemaining(e -> merged.set(e.getKey(), e.getValue()));
        }
        return fromJson(merged);
    }

    /** Parses HF keys; absent keys take HF's defaults. */
    public static GenerationConfig fromJson(JsonNode j) {
        UNSUPPORTED.forEach((key, off) -> {
            JsonNode n = j.get(key);
            if (n != null && !n.isNull() && !(off != null && n.isNumber() && n.asDouble() == off)) {
                throw new IllegalArgumentException("generation option " + key + " is not supported (set to " + n + ")");
            }
        });
        JsonNode early = j.get("early_stopping");
        return new GenerationConfig(
                j.hasNonNull("max_new_tokens") ? j.get("max_new_tokens").asInt() : null,
                j.path("max_length").asInt(20),
                j.path("min_new_tokens").asInt(0),
                j.path("min_length").asInt(0),
                j.path("do_sample").asBoolean(false),
                j.path("temperature").asDouble(1.0),
                j.path("top_k").asInt(50),
                j.path("top_p").asDouble(1.0),
                j.hasNonNull("min_p") ? j.get("min_p").asDouble() : null,
                j.path("typical_p").asDouble(1.0),
                j.path("repetition_penalty").asDouble(1.0),
                j.path("no_repeat_ngram_size").asInt(0),
                sequences(j.get("bad_words_ids")),
                j.path("num_beams").asInt(1),
                j.path("length_penalty").asDouble(1.0),
                early == null || early.isNull() ? "false" : early.asText(),
                j.path("num_return_sequences").asInt(1),
                ids(j.get("eos_token_id")),
                j.hasNonNull("pad_token_id") ? j.get("pad_token_id").asLong() : null,
                strings(j.get("stop_strings")),
                j.path("seed").asLong(0),
                j.hasNonNull("forced_bos_token_id")
                        ? j.get("forced_bos_token_id").asLong()
                        : null,
                ids(j.get("forced_eos_token_id")),
                j.hasNonNull("decoder_start_token_id")
                        ? j.get("decoder_start_token_id").asLong()
                        : null);
    }

    /** The length at which generation stops for a prompt of {@code promptLength} tokens (padding included). */
    public int maxLengthFor(int promptLength) {
        return maxNewTokens != null ? promptLength + maxNewTokens : maxLength;
    }

    /** The filler after a sequence ends: pad_token_id, else the first eos (HF's fallback), else -1. */
    public long effectivePadTokenId() {
        return padTokenId != null ? padTokenId : eosTokenIds.length > 0 ? eosTokenIds[0] : -1;
    }

    /** Whether {@code token} ends a sequence. */
    public boolean isEos(long token) {
        for (long e : eosTokenIds) if (e == token) return true;
        return false;
    }

    private static long[] ids(JsonNode n) {
        if (n == null || n.isNull()) return new long[0];
        if (n.isNumber()) return new long[] {n.asLong()};
        long[] out = new long[n.size()];
        for (int i = 0; i < out.length; i++) out[i] = n.get(i).asLong();
        return out;
    }

    private static List<long[]> sequences(JsonNode n) {
        List<long[]> out = new ArrayList<>();
        if (n != null && !n.isNull()) for (JsonNode s : n) out.add(ids(s));
        return out;
    }

    private static List<String> strings(JsonNode n) {
        List<String> out = new ArrayList<>();
        if (n == null || n.isNull()) return out;
        if (n.isTextual()) out.add(n.asText());
        else for (JsonNode s : n) out.add(s.asText());
        return out;
    }
}
