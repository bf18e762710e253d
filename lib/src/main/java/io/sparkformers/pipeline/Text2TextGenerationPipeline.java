package io.sparkformers.pipeline;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.generation.GenerationConfig;
import io.sparkformers.generation.GenerationOutput;
import io.sparkformers.generation.Generator;
import io.sparkformers.generation.Seq2SeqScorer;
import io.sparkformers.hub.Json;
import io.sparkformers.hub.SpecialTokenTruncation;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Seq2SeqLanguageModel;
import io.sparkformers.nn.Task;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * HF {@code pipeline("text2text-generation")} and its two subclasses {@code summarization} and {@code translation}
 * ({@code translation_xx_to_yy}) for encoder-decoder models: each text (with the task's prefix, e.g. T5's
 * "summarize: ") → {@code num_return_sequences} outputs, {@code [{"generated_text" | "summary_text" |
 * "translation_text": …}]}, decoded without special tokens and without clean-up, as HF.
 *
 * <p>Generation settings follow HF's order: the pipeline defaults (max_new_tokens 256, num_beams 4), the
 * checkpoint's generation_config.json values for every other key, max_new_tokens dropped when the checkpoint sets a
 * max_length other than 20; then the config's {@code task_specific_params[task]} (its {@code prefix} goes to the
 * input); then the call's {@link PipelineOptions#generateKwargs()}. Sources of a batch are right-padded, as HF pads
 * encoder inputs.
 */
public final class Text2TextGenerationPipeline extends TextPipeline<List<String>> {

    /** {@code translation_xx_to_yy}: translation with a language pair in the task name. */
    public static final Pattern TRANSLATION_PAIR = Pattern.compile("translation_[A-Za-z-]+_to_[A-Za-z-]+");

    private final String returnName;
    private final Seq2SeqLanguageModel lm;
    private final HuggingFaceTokenizer tokenizer;
    private final GenerationConfig config;
    private final String prefix;
    private final long padId;
    private final SpecialTokenTruncation truncation;
    private final int maxSourceTokens;

    /** @param task text2text-generation, summarization, translation or translation_xx_to_yy */
    public Text2TextGenerationPipeline(String task, HfModel model, PipelineOptions options) throws IOException {
        super(
                requireModel(
                        model,
                        model.task() == Task.SEQ2SEQ_LM && model.block() instanceof Seq2SeqLanguageModel,
                        task + " needs an encoder-decoder (seq2seq LM) model, got one loaded for " + model.task()),
                options,
                task);
        this.returnName =
                task.equals("summarization") ? "summary" : task.startsWith("translation") ? "translation" : "generated";
        this.lm = (Seq2SeqLanguageModel) model.block();
        Path dir = model.checkpoint().dir();
        JsonNode modelConfig = model.checkpoint().config();
        ObjectNode merged =
                Json.MAPPER.createObjectNode().put("max_new_tokens", 256).put("num_beams", 4);
        Path file = dir.resolve("generation_config.json");
        if (Files.exists(file)) {
            new ObjectMapper().readTree(file.toFile()).fields().forEachRemaining(e -> {
                if (!merged.has(e.getKey()) && !e.getKey().equals("transformers_version"))
                    merged.set(e.getKey(), e.getValue());
            });
        }
        for (String key : List.of("eos_token_id", "decoder_start_token_id", "pad_token_id")) {
            if (!merged.hasNonNull(key) && modelConfig.hasNonNull(key)) merged.set(key, modelConfig.get(key));
        }
        if (merged.path("max_length").asInt(20) != 20) merged.remove("max_new_tokens");
        JsonNode specific = modelConfig.path("task_specific_params").path(task);
        String taskPrefix = modelConfig.path("prefix").asText("");
        if (specific.isObject()) {
            ObjectNode params = specific.deepCopy();
            if (params.has("prefix")) taskPrefix = params.remove("prefix").asText();
            merged.setAll(params);
        }
        if (options.generateKwargs() != null)
            merged.setAll(options.generateKwargs().deepCopy());
        this.prefix = taskPrefix;
        this.config = GenerationConfig.fromJson(merged);
        if (config.decoderStartTokenId() == null) {
            throw new IllegalArgumentException(dir + " sets no decoder_start_token_id (config.json or "
                    + "generation_config.json): the decoder has no first token");
        }
        this.tokenizer = PipelineSupport.generationTokenizer(model);
        this.padId = config.padTokenId() != null
                ? config.padTokenId()
                : modelConfig.path("pad_token_id").asLong(0);
        this.truncation = SpecialTokenTruncation.of(tokenizer);
        int positions = modelConfig.path("max_position_embeddings").asInt(Integer.MAX_VALUE);
        this.maxSourceTokens =
                Math.min(positions, model.checkpoint().tokenizerConfig().modelMaxLength());
    }

    /**
     * The longest source the model takes, in tokens: the tokenizer's {@code model_max_length} (what HF's
     * {@code truncation=True} cuts to), capped by {@code max_position_embeddings} where the config has one (BART,
     * Marian; T5's relative positions have none).
     */
    public int maxSourceTokens() {
        return maxSourceTokens;
    }

    /**
     * {@link #sourceIds} cut to at most {@code max} tokens as HF's tokenizer truncation cuts them: the text's tokens
     * are shortened, the special tokens around them kept (BART {@code <s> … </s>}, T5 and Marian {@code … </s>}).
     *
     * @param max tokens kept, special tokens included (more than the specials)
     */
    public long[] sourceIds(String text, int max) {
        return sourceIds(prefix, text, max);
    }

    /** {@link #sourceIds(String, int)} with {@code prefix} in place of the task's (a fine-tuned source_prefix). */
    public long[] sourceIds(String prefix, String text, int max) {
        return truncation.truncate(sourceIds(prefix, text), max);
    }

    /** The generation settings every call uses. */
    public GenerationConfig generationConfig() {
        return config;
    }

    /** The text put before every input (the task's {@code prefix}, e.g. "summarize: "), or "". */
    public String prefix() {
        return prefix;
    }

    @Override
    List<List<String>> predictValid(List<PipelineInput> inputs, int firstRow) {
        List<long[]> sources = new ArrayList<>(inputs.size());
        for (PipelineInput in : inputs) sources.add(sourceIds(in.text()));
        return generate(sources, null);
    }

    /**
     * Whether the tokenizer holds {@code token} as one token of its own (e.g. a multilingual Marian checkpoint's
     * {@code >>de<<} target-language code).
     */
    public boolean hasToken(String token) {
        var e = tokenizer.encode(token, false, false);
        return e.getIds().length == 1 && e.getTokens()[0].equals(token);
    }

    /** A text's encoder input: the task prefix and the text, tokenized with the tokenizer's special tokens. */
    public long[] sourceIds(String text) {
        return sourceIds(prefix, text);
    }

    /** {@link #sourceIds(String)} with {@code prefix} in place of the task's. */
    public long[] sourceIds(String prefix, String text) {
        return tokenizer.encode(prefix + text).getIds();
    }

    /**
     * Generates for tokenized sources ({@link #sourceIds}), right-padded into one batch as HF pads encoder inputs.
     *
     * @param seeds per source, the seed of its own sampling RNG (its samples then do not depend on the batch); null:
     *              one RNG seeded with the generation config's seed
     * @return per source, its num_return_sequences texts
     */
    public List<List<String>> generate(List<long[]> sources, long[] seeds) {
        int b = sources.size();
        PipelineSupport.Padded in = PipelineSupport.pad(sources, padId, false); // right, as HF pads encoder inputs
        long[][][] prompt = Seq2SeqScorer.decoderPrompt(b, config.decoderStartTokenId());
        GenerationOutput out = Generator.generate(
                Seq2SeqScorer.factory(lm, in.ids(), in.mask(), model.manager().getDevice()),
                prompt[0],
                prompt[1],
                config,
                t -> tokenizer.decode(t, false),
                seeds);
        int perInput = out.sequences().length / b;
        List<List<String>> results = new ArrayList<>(b);
        for (int i = 0; i < b; i++) {
            List<String> texts = new ArrayList<>(perInput);
            for (int j = 0; j < perInput; j++) texts.add(tokenizer.decode(out.sequences()[i * perInput + j], true));
            results.add(texts);
        }
        return results;
    }

    @Override
    public JsonNode hfJson(List<String> result) {
        ArrayNode arr = Json.MAPPER.createArrayNode();
        for (String t : result) arr.addObject().put(returnName + "_text", t);
        return arr;
    }

    @Override
    public void close() {
        tokenizer.close();
        super.close();
    }
}
