package io.sparkformers.spark;

import ai.djl.Device;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.generation.GenerationConfig;
import io.sparkformers.hub.ChatTemplate;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.ComputeDtype;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import io.sparkformers.pipeline.PipelineOptions;
import io.sparkformers.pipeline.Text2TextGenerationPipeline;
import io.sparkformers.pipeline.TextGenerationPipeline;
import io.sparkformers.spark.TokenBudgetBatcher.Encoded;
import io.sparkformers.spark.TokenBudgetBatcher.Scored;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.sql.Row;

/**
 * Prompts as a scoring stage's input ({@link GenerationStage}), for decoders and encoder-decoders alike. Decoders
 * ({@link TextGenerator}): each row's prompt — a text column, or a messages column rendered by the checkpoint's chat
 * template — is tokenized as HF's text-generation pipeline does and generated, left-padded, by the executor's cached
 * {@link TextGenerationPipeline}. Encoder-decoders ({@link Summarizer}, {@link Translator},
 * {@link Text2TextGenerator}): each row's text, after the task's prefix, is the encoder input, generated right-padded
 * by the executor's cached {@link Text2TextGenerationPipeline} for the stage's task. Either way inputs are sorted by
 * length within a window and cut into batches ({@link TokenBudgetBatcher}), so a row's text is the pipeline's. For
 * decoders {@code maxTokensPerBatch} counts what the KV cache will hold: rows × (longest prompt + max_new_tokens, or
 * max_length) × the sequences each prompt expands to (num_beams for beam search, else num_return_sequences), as
 * {@link #decoderRowTokens}; for encoder-decoders the padded input tokens. Sampling draws from one RNG per row, seeded from the stage's seed
 * and the row's input text ({@link #rowSeed}): a row's samples do not depend on the partitioning or on the rows
 * batched with it.
 */
final class GenerationCodec extends InputCodec {
    private static final long serialVersionUID = 1L;

    private final String column;
    private final int promptIndex;
    private final boolean chat;
    private final String seq2seqTask;
    private final String targetLanguage;
    private final String generateKwargs;
    private final long seed;
    private final boolean arrays;
    private final int window;
    private final int maxTokensPerBatch;
    private final int batchSize;
    private final boolean truncation;
    private final int maxSourceLength;
    /** An encoder-decoder's prefix in place of the task's, or null. */
    private final String sourcePrefix;

    /**
     * @param column         the prompt (or messages) column, for messages
     * @param promptIndex    its position in the row
     * @param chat           the column holds {@code array<struct<role, content>>} rendered by the chat template
     * @param seq2seqTask    an encoder-decoder's pipeline task (summarization, translation[_xx_to_yy],
     *                       text2text-generation), or null for a decoder's text-generation
     * @param targetLanguage translation: the target language, put before each source as ">>xx<<" where the
     *                       checkpoint's vocabulary has that code (multilingual Marian) and the text has none; or null
     * @param generateKwargs HF generate() keyword arguments as JSON ({@code return_full_text} included)
     * @param seed           the stage's seed, mixed into each row's
     * @param arrays         each row's output is its array of num_return_sequences texts (else the one text)
     * @param truncation      encoder-decoders: cut a source longer than the limit (HF {@code truncation=True}); false:
     *                        the row is invalid (decoders: false, unused)
     * @param maxSourceLength encoder-decoders: the limit in tokens, special tokens included (0: the model's,
     *                        {@link Text2TextGenerationPipeline#maxSourceTokens}; never above it; decoders: 0, unused)
     * @param sourcePrefix    encoder-decoders: text put before every source in place of the task's prefix, or null
     *                        (the task's; decoders: null)
     */
    GenerationCodec(
            String column,
            int promptIndex,
            boolean chat,
            String seq2seqTask,
            String targetLanguage,
            String generateKwargs,
            long seed,
            boolean arrays,
            int window,
            int maxTokensPerBatch,
            int batchSize,
            boolean truncation,
            int maxSourceLength,
            String sourcePrefix) {
        this.column = column;
        this.promptIndex = promptIndex;
        this.chat = chat;
        this.seq2seqTask = seq2seqTask;
        this.targetLanguage = targetLanguage;
        this.generateKwargs = generateKwargs;
        this.seed = seed;
        this.arrays = arrays;
        this.window = window;
        this.maxTokensPerBatch = maxTokensPerBatch;
        this.batchSize = batchSize;
        this.truncation = truncation;
        this.maxSourceLength = maxSourceLength;
        this.sourcePrefix = sourcePrefix;
    }

    @Override
    String column() {
        return column;
    }

    @Override
    String noun() {
        return chat ? "messages" : seq2seqTask == null ? "prompt" : "input";
    }

    /** One valid row's prompt: its text (to put before the continuation, or null) and its sampling seed. */
    private record Prompt(String fullText, long seed) {}

    /** The executor's cached pipeline as this codec uses it: a row's input ids, a batch's texts. */
    private interface Generating {
        Encoded encode(Row row);

        List<List<String>> generate(List<long[]> ids, List<String> fullTexts, long[] seeds);

        /** Tokens one batch row holds against {@code maxTokensPerBatch}, for a batch whose longest input is given. */
        int rowTokens(int longest);
    }

    @Override
    Partition open(String model, Device device, ComputeDtype dtype, int partition) throws IOException {
        ExecutorModels.Lease<HfModel> lease = ExecutorModels.model(
                model, adapter(), seq2seqTask == null ? Task.CAUSAL_LM : Task.SEQ2SEQ_LM, device, dtype);
        PipelineOptions options = PipelineOptions.builder()
                .batchSize(batchSize)
                .generateKwargs((ObjectNode) Json.MAPPER.readTree(generateKwargs))
                .build();
        Generating pipeline;
        try {
            pipeline = seq2seqTask == null ? decoder(lease.model(), options) : encoderDecoder(lease.model(), options);
        } catch (RuntimeException | IOException e) {
            lease.close();
            throw e;
        }
        TokenBudgetBatcher batcher =
                new TokenBudgetBatcher(window, maxTokensPerBatch, batchSize, true, 0, pipeline::rowTokens);
        return new Partition(lease, batcher.stats()) {
            @Override
            Iterator<Scored<Row>> score(Iterator<Row> rows) {
                return batcher.run(rows, pipeline::encode, batch -> {
                    int b = batch.size();
                    List<long[]> prompts = new ArrayList<>(b);
                    List<String> texts = new ArrayList<>(b);
                    long[] seeds = new long[b];
                    for (int i = 0; i < b; i++) {
                        Prompt p = (Prompt) batch.rows().get(i).input();
                        prompts.add(batch.ids(i));
                        texts.add(p.fullText());
                        seeds[i] = p.seed();
                    }
                    List<List<String>> out = pipeline.generate(prompts, texts, seeds);
                    Object[] values = new Object[b];
                    for (int i = 0; i < b; i++)
                        values[i] = arrays
                                ? out.get(i).toArray(new String[0])
                                : out.get(i).get(0);
                    return values;
                });
            }
        };
    }

    private Generating decoder(HfModel model, PipelineOptions options) throws IOException {
        TextGenerationPipeline pipeline =
                ExecutorModels.pipeline(model, options, m -> new TextGenerationPipeline(m, options));
        if (chat && !pipeline.hasChatTemplate()) pipeline.applyChatTemplate(List.of()); // throws, naming the checkpoint
        return new Generating() {
            @Override
            public Encoded encode(Row row) {
                return encodePrompt(row, pipeline);
            }

            @Override
            public List<List<String>> generate(List<long[]> ids, List<String> fullTexts, long[] seeds) {
                return pipeline.generate(ids, fullTexts, seeds);
            }

            @Override
            public int rowTokens(int longest) {
                return decoderRowTokens(pipeline.generationConfig(), longest);
            }
        };
    }

    private Generating encoderDecoder(HfModel model, PipelineOptions options) throws IOException {
        // one pipeline per task and options: a checkpoint summarizes and translates with different prefixes
        Text2TextGenerationPipeline pipeline = ExecutorModels.pipeline(
                model, List.of(seq2seqTask, options), m -> new Text2TextGenerationPipeline(seq2seqTask, m, options));
        // multilingual Marian: the target language as the ">>xx<<" code its vocabulary holds, before each source
        String code = targetLanguage == null ? null : ">>" + targetLanguage + "<<";
        String lead = code != null && pipeline.hasToken(code) ? code + " " : "";
        int limit = maxSourceLength > 0
                ? Math.min(maxSourceLength, pipeline.maxSourceTokens())
                : pipeline.maxSourceTokens();
        return new Generating() {
            @Override
            public Encoded encode(Row row) {
                String text = row.isNullAt(promptIndex) ? null : row.getString(promptIndex);
                String why = InputReader.invalidText(text);
                if (why != null) return Encoded.invalid(why);
                String source = text.startsWith(">>") ? text : lead + text;
                String prefix = sourcePrefix != null ? sourcePrefix : pipeline.prefix();
                long[] ids =
                        truncation ? pipeline.sourceIds(prefix, source, limit) : pipeline.sourceIds(prefix, source);
                if (ids.length > limit) {
                    return Encoded.invalid("its source has " + ids.length + " tokens, more than the " + limit
                            + " the model takes (maxSourceLength, 0: the model's): set truncation true to cut it "
                            + "as HF's truncation=True does, or shorten the text");
                }
                long[] ones = new long[ids.length];
                java.util.Arrays.fill(ones, 1L);
                return new Encoded(ids, ones, new long[ids.length], null, new Prompt(null, rowSeed(seed, text)));
            }

            @Override
            public List<List<String>> generate(List<long[]> ids, List<String> fullTexts, long[] seeds) {
                return pipeline.generate(ids, seeds);
            }

            @Override
            public int rowTokens(int longest) {
                return longest;
            }
        };
    }

    private Encoded encodePrompt(Row row, TextGenerationPipeline pipeline) {
        String prompt;
        if (chat) {
            if (row.isNullAt(promptIndex)) return Encoded.invalid("messages are null");
            List<Row> list = row.getList(promptIndex);
            if (list.isEmpty()) return Encoded.invalid("messages are empty");
            List<ChatTemplate.Message> messages = new ArrayList<>(list.size());
            for (Row m : list) {
                if (m == null || m.isNullAt(m.fieldIndex("role")) || m.isNullAt(m.fieldIndex("content"))) {
                    return Encoded.invalid("a message, its role or its content is null");
                }
                messages.add(new ChatTemplate.Message(m.getAs("role"), m.getAs("content")));
            }
            try {
                prompt = pipeline.applyChatTemplate(messages);
            } catch (ChatTemplate.ChatTemplateException e) {
                return Encoded.invalid("the chat template refused the messages: " + e.getMessage());
            }
        } else {
            prompt = row.isNullAt(promptIndex) ? null : row.getString(promptIndex);
            String why = InputReader.invalidText(prompt);
            if (why != null) return Encoded.invalid(why);
        }
        long[] ids = pipeline.promptIds(prompt, chat);
        if (ids.length == 0) return Encoded.invalid("the prompt encodes to no tokens");
        long[] ones = new long[ids.length];
        java.util.Arrays.fill(ones, 1L);
        String fullText = !chat && pipeline.returnFullText() ? prompt : null;
        return new Encoded(ids, ones, new long[ids.length], null, new Prompt(fullText, rowSeed(seed, prompt)));
    }

    /**
     * The KV-cache positions one prompt of a decoder batch padded to {@code longest} tokens holds by the last step:
     * (longest + max_new_tokens, or max_length) × the rows generate() expands it to (num_beams for beam search, else
     * num_return_sequences). Saturates at {@link Integer#MAX_VALUE}.
     */
    static int decoderRowTokens(GenerationConfig config, int longest) {
        int expand = config.numBeams() > 1 ? config.numBeams() : config.numReturnSequences();
        long tokens = (long) Math.max(longest, config.maxLengthFor(longest)) * expand;
        return (int) Math.min(Integer.MAX_VALUE, tokens);
    }

    /**
     * A row's sampling seed: the stage's seed mixed with a 64-bit hash (FNV-1a) of the prompt text the model sees
     * (the rendered chat for messages). Equal prompts therefore draw equal samples under one seed; a different seed,
     * or numReturnSequences, gives several.
     */
    static long rowSeed(long stageSeed, String prompt) {
        long h = 0xcbf29ce484222325L;
        for (byte b : prompt.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h ^ (stageSeed * 0x9E3779B97F4A7C15L);
    }
}
