package io.sparkformers.pipeline;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.generation.CausalLmScorer;
import io.sparkformers.generation.GenerationConfig;
import io.sparkformers.generation.GenerationOutput;
import io.sparkformers.generation.Generator;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.CausalLanguageModel;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * HF {@code pipeline("text-generation")} for decoder-only models: each prompt → {@code num_return_sequences}
 * generated texts, {@code [{"generated_text": …}]}. With {@code return_full_text} (default true) the text starts
 * with the prompt, as HF: the decoded continuation after the decoded prompt's length, appended to the prompt as
 * given. Prompts of a batch are left-padded (pad token: the tokenizer's, else the first eos), as HF batches them.
 * Generation options come from the checkpoint's generation_config.json under the call's
 * {@link PipelineOptions#generateKwargs()}, over the pipeline's default max_new_tokens 256 (HF's
 * {@code _default_generation_config}).
 */
public final class TextGenerationPipeline implements Pipeline<List<String>> {

    private final HfModel model;
    private final CausalLanguageModel lm;
    private final HuggingFaceTokenizer tokenizer;
    private final PipelineOptions options;
    private final GenerationConfig config;
    private final boolean returnFullText;
    private final long padId;

    public TextGenerationPipeline(HfModel model, PipelineOptions options) throws IOException {
        if (model.task() != Task.CAUSAL_LM || !(model.block() instanceof CausalLanguageModel causal)) {
            throw new IllegalArgumentException(
                    "text-generation needs a causal-LM model, got one loaded for " + model.task());
        }
        this.model = model;
        this.lm = causal;
        this.options = options;
        ObjectNode kwargs = options.generateKwargs() == null
                ? Json.MAPPER.createObjectNode()
                : options.generateKwargs().deepCopy();
        this.returnFullText = kwargs.path("return_full_text").asBoolean(true);
        kwargs.remove("return_full_text");
        ObjectNode defaults = Json.MAPPER.createObjectNode().put("max_new_tokens", 256);
        this.config = GenerationConfig.forCheckpoint(model.checkpoint().dir(), defaults, kwargs);
        this.tokenizer = HuggingFaceTokenizer.builder()
                .optTokenizerPath(model.checkpoint().tokenizerJson())
                .optAddSpecialTokens(true)
                .optPadding(false)
                .optTruncation(false)
                .build();
        JsonNode pad = model.checkpoint().tokenizerConfig().raw().get("pad_token");
        String padToken = pad == null || pad.isNull()
                ? null
                : pad.isTextual() ? pad.asText() : pad.path("content").asText();
        long[] padIds = padToken == null
                ? new long[0]
                : tokenizer.encode(padToken, false, false).getIds();
        this.padId = padIds.length == 1 ? padIds[0] : config.effectivePadTokenId();
    }

    @Override
    public String task() {
        return "text-generation";
    }

    @Override
    public PipelineOptions options() {
        return options;
    }

    /** The generation settings every call uses. */
    public GenerationConfig generationConfig() {
        return config;
    }

    @Override
    public String invalidReason(PipelineInput input, int row) {
        return PipelineSupport.textProblem(input.text(), "text", row);
    }

    @Override
    public List<List<String>> predictBatch(List<PipelineInput> inputs, int firstRow) {
        PipelineSupport.requireValid(this, inputs, firstRow);
        int b = inputs.size();
        long[][] prompts = new long[b][];
        int width = 0;
        for (int i = 0; i < b; i++) {
            Encoding e = tokenizer.encode(inputs.get(i).text());
            prompts[i] = e.getIds();
            if (prompts[i].length == 0) {
                throw new IllegalArgumentException("row " + (firstRow + i) + ": the prompt encodes to no tokens");
            }
            width = Math.max(width, prompts[i].length);
        }
        long[][] ids = new long[b][width];
        long[][] mask = new long[b][width];
        for (int i = 0; i < b; i++) {
            int offset = width - prompts[i].length; // left padding
            Arrays.fill(ids[i], 0, offset, padId);
            System.arraycopy(prompts[i], 0, ids[i], offset, prompts[i].length);
            Arrays.fill(mask[i], offset, width, 1L);
        }
        GenerationOutput out = Generator.generate(
                (x, m) -> new CausalLmScorer(lm, x, m, model.manager().getDevice()),
                ids,
                mask,
                config,
                t -> tokenizer.decode(t, false));
        int perPrompt = out.sequences().length / b;
        List<List<String>> results = new ArrayList<>(b);
        for (int i = 0; i < b; i++) {
            List<String> texts = new ArrayList<>(perPrompt);
            String promptText = tokenizer.decode(prompts[i], true);
            for (int j = 0; j < perPrompt; j++) {
                long[] row = out.sequences()[i * perPrompt + j];
                long[] real = Arrays.copyOfRange(row, width - prompts[i].length, row.length);
                String text = tokenizer.decode(real, true);
                String continuation = text.substring(Math.min(promptText.length(), text.length()));
                texts.add(returnFullText ? inputs.get(i).text() + continuation : continuation);
            }
            results.add(texts);
        }
        return results;
    }

    @Override
    public JsonNode hfJson(List<String> result) {
        ArrayNode arr = Json.MAPPER.createArrayNode();
        for (String t : result) arr.addObject().put("generated_text", t);
        return arr;
    }

    @Override
    public void close() {
        tokenizer.close();
        model.close();
    }
}
