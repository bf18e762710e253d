package io.sparkformers.pipeline;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.generation.CausalLmScorer;
import io.sparkformers.generation.GenerationConfig;
import io.sparkformers.generation.GenerationOutput;
import io.sparkformers.generation.Generator;
import io.sparkformers.hub.ChatTemplate;
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
 * {@code _default_generation_config}). Chat input ({@link #chat}): conversations rendered by the checkpoint's chat
 * template ({@link ChatTemplate}), as HF's pipeline accepts lists of {@code {"role", "content"}} messages.
 */
public final class TextGenerationPipeline extends TextPipeline<List<String>> {

    private final CausalLanguageModel lm;
    private final HuggingFaceTokenizer tokenizer;
    private final GenerationConfig config;
    private final boolean returnFullText;
    private final long padId;
    private final ChatTemplate chatTemplate;

    public TextGenerationPipeline(HfModel model, PipelineOptions options) throws IOException {
        super(
                requireModel(
                        model,
                        model.task() == Task.CAUSAL_LM && model.block() instanceof CausalLanguageModel,
                        "text-generation needs a causal-LM model, got one loaded for " + model.task()),
                options,
                "text-generation");
        this.lm = (CausalLanguageModel) model.block();
        ObjectNode kwargs = options.generateKwargs() == null
                ? Json.MAPPER.createObjectNode()
                : options.generateKwargs().deepCopy();
        this.returnFullText = kwargs.path("return_full_text").asBoolean(true);
        kwargs.remove("return_full_text");
        ObjectNode defaults = Json.MAPPER.createObjectNode().put("max_new_tokens", 256);
        this.config = GenerationConfig.forCheckpoint(model.checkpoint().dir(), defaults, kwargs);
        this.tokenizer = PipelineSupport.generationTokenizer(model);
        JsonNode pad = model.checkpoint().tokenizerConfig().raw().get("pad_token");
        String padToken = pad == null || pad.isNull()
                ? null
                : pad.isTextual() ? pad.asText() : pad.path("content").asText();
        long[] padIds = padToken == null
                ? new long[0]
                : tokenizer.encode(padToken, false, false).getIds();
        this.padId = padIds.length == 1 ? padIds[0] : config.effectivePadTokenId();
        this.chatTemplate = ChatTemplate.forCheckpoint(
                model.checkpoint().dir(), model.checkpoint().tokenizerConfig().raw());
    }

    /** The generation settings every call uses. */
    public GenerationConfig generationConfig() {
        return config;
    }

    @Override
    List<List<String>> predictValid(List<PipelineInput> inputs, int firstRow) {
        List<long[]> prompts = new ArrayList<>(inputs.size());
        List<String> texts = new ArrayList<>(inputs.size());
        for (int i = 0; i < inputs.size(); i++) {
            long[] ids = promptIds(inputs.get(i).text(), false);
            if (ids.length == 0) {
                throw new IllegalArgumentException("row " + (firstRow + i) + ": the prompt encodes to no tokens");
            }
            prompts.add(ids);
            texts.add(returnFullText ? inputs.get(i).text() : null);
        }
        return generate(prompts, texts, null);
    }

    /**
     * HF's chat input: each conversation rendered by the checkpoint's chat template with the generation prompt
     * ({@link #applyChatTemplate}), tokenized without special tokens (the template holds them), and continued. The
     * texts are the assistant's replies (HF's {@code return_full_text=False}; with it true HF returns the
     * conversation with the reply appended as an assistant message: see {@link #chatJson}).
     */
    public List<List<String>> chat(List<List<ChatTemplate.Message>> conversations) {
        List<long[]> prompts = new ArrayList<>(conversations.size());
        List<String> none = new ArrayList<>(conversations.size());
        for (List<ChatTemplate.Message> c : conversations) {
            prompts.add(promptIds(applyChatTemplate(c), true));
            none.add(null);
        }
        return generate(prompts, none, null);
    }

    /** HF's output for one conversation and its replies: the conversation with each reply appended, or the replies. */
    public JsonNode chatJson(List<ChatTemplate.Message> conversation, List<String> replies) {
        ArrayNode arr = Json.MAPPER.createArrayNode();
        for (String reply : replies) {
            ObjectNode o = arr.addObject();
            if (!returnFullText) {
                o.put("generated_text", reply);
                continue;
            }
            ArrayNode messages = o.putArray("generated_text");
            for (ChatTemplate.Message m : conversation) {
                messages.addObject().put("role", m.role()).put("content", m.content());
            }
            messages.addObject().put("role", "assistant").put("content", reply);
        }
        return arr;
    }

    /**
     * The prompt of a conversation: the checkpoint's chat template with {@code add_generation_prompt=True}, as HF's
     * pipeline renders chat input.
     */
    public String applyChatTemplate(List<ChatTemplate.Message> conversation) {
        if (chatTemplate == null) {
            throw new IllegalArgumentException(model.checkpoint().dir() + " has no chat template (no chat_template in "
                    + "tokenizer_config.json nor chat_template.jinja): give plain text prompts");
        }
        return chatTemplate.render(conversation, true);
    }

    /** Whether the checkpoint has a chat template. */
    public boolean hasChatTemplate() {
        return chatTemplate != null;
    }

    /**
     * A prompt's token ids: with the tokenizer's special tokens for text, without for a rendered chat (HF's
     * {@code add_special_tokens=False} there).
     */
    public long[] promptIds(String prompt, boolean renderedChat) {
        return tokenizer.encode(prompt, !renderedChat, false).getIds();
    }

    /** Whether the texts of {@link #generate} start with the prompt (HF {@code return_full_text}). */
    public boolean returnFullText() {
        return returnFullText;
    }

    /**
     * Generates for tokenized prompts, left-padded into one batch as HF batches them.
     *
     * @param prompts     each prompt's token ids (not empty)
     * @param fullTexts   per prompt, the text to put before its continuation, or null for the continuation alone
     * @param promptSeeds per prompt, the seed of its own sampling RNG (its samples then do not depend on the
     *                    batch); null: one RNG seeded with the generation config's seed
     * @return per prompt, its num_return_sequences texts
     */
    public List<List<String>> generate(List<long[]> prompts, List<String> fullTexts, long[] promptSeeds) {
        int b = prompts.size();
        PipelineSupport.Padded in = PipelineSupport.pad(prompts, padId, true); // left, as HF batches prompts
        int width = in.width();
        GenerationOutput out = Generator.generate(
                (x, m) -> new CausalLmScorer(lm, x, m, model.manager().getDevice()),
                in.ids(),
                in.mask(),
                config,
                t -> tokenizer.decode(t, false),
                promptSeeds);
        int perPrompt = out.sequences().length / b;
        List<List<String>> results = new ArrayList<>(b);
        for (int i = 0; i < b; i++) {
            List<String> texts = new ArrayList<>(perPrompt);
            long[] p = prompts.get(i);
            String promptText = tokenizer.decode(p, true);
            for (int j = 0; j < perPrompt; j++) {
                long[] row = out.sequences()[i * perPrompt + j];
                long[] real = Arrays.copyOfRange(row, width - p.length, row.length);
                String text = tokenizer.decode(real, true);
                String continuation = text.substring(Math.min(promptText.length(), text.length()));
                texts.add(fullTexts.get(i) != null ? fullTexts.get(i) + continuation : continuation);
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
        super.close();
    }
}
