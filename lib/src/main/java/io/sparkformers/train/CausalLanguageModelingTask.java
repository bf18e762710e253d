package io.sparkformers.train;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.ChatTemplate;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.AutoModels;
import io.sparkformers.nn.PretrainedModel;
import io.sparkformers.nn.StateDict;
import io.sparkformers.nn.Task;
import io.sparkformers.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Causal-language-model training for the {@link Trainer}, as HF's {@code run_clm.py} and supervised instruction tuning:
 * a decoder ({@code AutoModelForCausalLM}: GPT-2, Llama, Mistral, Qwen2) from a checkpoint or from its config's
 * initialisation; {@code labels = input_ids}, shifted inside the loss ({@link TrainingLoss#causalLanguageModeling}:
 * logits at t predict the token at t + 1, -100 ignored); evaluation reports {@code eval_loss} and
 * {@code eval_perplexity} = exp(eval_loss).
 *
 * <p>Data ({@link TextDataset} rows):
 * <ul>
 *   <li>plain text, {@code group_texts}: every row tokenized (with the tokenizer's specials, as {@code run_clm}),
 *       concatenated and cut into blocks of {@code block_size} (the remainder dropped); data parallel, each replica
 *       packs its own rows and the blocks are shared ({@link PretrainedTextFit#examplesByGlobalIndex}).
 *   <li>plain text, line by line: one example per row truncated to {@code block_size}, right-padded per batch (pad:
 *       the tokenizer's pad token, else its eos, as HF scripts set it); padded positions are -100. HF's
 *       {@code DataCollatorForLanguageModeling(mlm=False)} sets -100 wherever the id equals the pad id, which with
 *       pad = eos also hides real eos tokens; here only padding is hidden.
 *   <li>instruction pairs ({@link #instruction}): {@code text} the prompt, {@code textPair} the response; the example
 *       is prompt tokens (with the tokenizer's specials) + response tokens + eos, truncated to {@code block_size};
 *       the prompt's positions are -100 so only the response is learned.
 *   <li>chat messages ({@link #chat}): {@code text} a JSON array of {@code {"role", "content"}} messages rendered
 *       through the tokenizer's chat template, every token outside the assistant's turns -100
 *       ({@link ChatExamples}), truncated to {@code block_size}.
 * </ul>
 */
final class CausalLanguageModelingTask extends TrainingTask {

    /** Where the model comes from: a checkpoint folder, or a config.json + a tokenizer folder (from scratch). */
    private final Path model;
    /** The LoRA adapter trained instead of the model's weights, or null ({@link #withLora}). */
    private io.sparkformers.nn.lora.LoraConfig lora;

    private final ObjectNode scratchConfig;
    private final int blockSize;
    private final boolean groupTexts;
    private final boolean instruction;
    /** Instruction rows are chat messages in the text column (JSON), rendered through the chat template. */
    private final boolean chat;

    CausalLanguageModelingTask(
            Path model, ObjectNode scratchConfig, int blockSize, boolean groupTexts, boolean instruction) {
        this(model, scratchConfig, blockSize, groupTexts, instruction, false);
    }

    CausalLanguageModelingTask(
            Path model,
            ObjectNode scratchConfig,
            int blockSize,
            boolean groupTexts,
            boolean instruction,
            boolean chat) {
        this.model = Objects.requireNonNull(model, "model");
        if (blockSize <= 0) throw new IllegalArgumentException("block_size must be > 0 but was " + blockSize);
        if (groupTexts && instruction) {
            throw new IllegalArgumentException("instruction pairs are not packed: set group_texts false (each pair is "
                    + "one example, its prompt masked out of the loss)");
        }
        this.scratchConfig = scratchConfig == null ? null : scratchConfig.deepCopy();
        this.blockSize = blockSize;
        this.groupTexts = groupTexts;
        this.instruction = instruction || chat;
        this.chat = chat;
    }

    @Override
    void checkMode(TransferMode mode) {
        refuseFeatureExtraction(mode, "causal-LM training has no new head to train alone");
    }

    @Override
    TaskFit start(TrainingRun run, Trainer.Shard train, TrainingDataset eval) throws IOException {
        return TaskFit.started(new Fit(
                run, train, eval, scratchConfig == null ? null : Files.createTempDirectory("sparkformers-clm-init")));
    }

    /**
     * One tokenized example: its ids and the labels (the ids, -100 where not learned).
     *
     * @param inputIds (L) token ids
     * @param labels   (L) the ids, or -100 (prompt tokens of an instruction pair)
     */
    record Example(long[] inputIds, long[] labels) {}

    /** The special-token ids the data needs: padding and end of text. */
    record Specials(long padId, long eosId) {}

    /** A special token of {@code tokenizer_config.json} (a string or an AddedToken object), or null. */
    static String specialToken(JsonNode tokenizerConfig, String key) {
        JsonNode n = tokenizerConfig.get(key);
        if (n == null || n.isNull()) return null;
        return n.isTextual() ? n.asText() : n.path("content").asText(null);
    }

    static Specials specials(HfCheckpoint ckpt, HuggingFaceTokenizer tok) {
        JsonNode raw = ckpt.tokenizerConfig().raw();
        String eos = specialToken(raw, "eos_token");
        String pad = specialToken(raw, "pad_token");
        if (eos == null && pad == null) {
            throw new IllegalArgumentException(ckpt.dir() + ": the tokenizer has neither an eos_token nor a pad_token; "
                    + "causal-LM batches need one (set eos_token in tokenizer_config.json)");
        }
        long eosId = eos == null ? -1 : single(tok, eos);
        return new Specials(pad == null ? eosId : single(tok, pad), eosId);
    }

    private static long single(HuggingFaceTokenizer tok, String token) {
        long[] ids = tok.encode(token, false, false).getIds();
        if (ids.length != 1) {
            throw new IllegalArgumentException(
                    "'" + token + "' is not a single token of the tokenizer (" + ids.length + " tokens)");
        }
        return ids[0];
    }

    /**
     * Rows → examples: group_texts blocks, one truncated row each, masked instruction pairs, or (with a chat
     * template) masked conversations.
     */
    static List<Example> featurize(
            TextDataset data,
            HuggingFaceTokenizer tok,
            Specials specials,
            int blockSize,
            boolean groupTexts,
            boolean instruction,
            ChatTemplate chat,
            boolean perShard,
            String what) {
        data.requireRows(what);
        List<Example> out = new ArrayList<>();
        long[] all = new long[0];
        int total = 0;
        for (TextDataset.Row row : data.rows()) {
            String text = data.textOf(row, what);
            if (chat != null) {
                String where = "the " + what + " dataset (" + data.description() + ") row " + row.id();
                out.add(ChatExamples.example(ChatExamples.parse(text, where), chat, tok, blockSize, where));
                continue;
            }
            long[] ids = tok.encode(text, true, false).getIds();
            if (instruction) {
                if (row.textPair() == null) {
                    throw new IllegalArgumentException("the " + what + " dataset (" + data.description() + ") row "
                            + row.id() + ": the response is null (is the response column right?)");
                }
                if (specials.eosId() < 0) {
                    throw new IllegalArgumentException("instruction pairs end with eos, and the tokenizer has none");
                }
                out.add(pair(ids, tok.encode(row.textPair(), false, false).getIds(), specials.eosId(), blockSize));
                continue;
            }
            if (!groupTexts) {
                long[] kept = Arrays.copyOf(ids, Math.min(ids.length, blockSize));
                if (kept.length > 0) out.add(new Example(kept, kept));
                continue;
            }
            if (total + ids.length > all.length) all = Arrays.copyOf(all, Math.max(2 * all.length, total + ids.length));
            System.arraycopy(ids, 0, all, total, ids.length);
            total += ids.length;
        }
        if (!groupTexts) {
            if (out.isEmpty()) {
                throw new IllegalArgumentException("the " + what + " dataset (" + data.description() + ") has no "
                        + "tokens: every text is empty");
            }
            return out;
        }
        if (total < blockSize && !perShard) {
            throw new IllegalArgumentException("the " + what + " dataset (" + data.description() + ") has " + total
                    + " tokens, fewer than one block of block_size " + blockSize
                    + ": add text, lower block_size or turn group_texts off");
        }
        for (int from = 0; from + blockSize <= total; from += blockSize) { // HF drops the remainder
            long[] block = Arrays.copyOfRange(all, from, from + blockSize);
            out.add(new Example(block, block));
        }
        return out;
    }

    /** The checkpoint's chat template (tokenizer_config.json or chat_template.jinja); fails when it has none. */
    static ChatTemplate chatTemplate(HfCheckpoint ckpt) throws IOException {
        ChatTemplate t =
                ChatTemplate.forCheckpoint(ckpt.dir(), ckpt.tokenizerConfig().raw());
        if (t == null) {
            throw new IllegalArgumentException(ckpt.dir() + " has no chat template (chat_template in "
                    + "tokenizer_config.json or chat_template.jinja), so chat messages cannot be rendered: give the "
                    + "checkpoint one, or train on prompt/response columns");
        }
        return t;
    }

    /** prompt + response + eos, truncated to {@code blockSize}; the prompt's labels -100. */
    static Example pair(long[] prompt, long[] response, long eos, int blockSize) {
        int n = Math.min(prompt.length + response.length + 1, blockSize);
        long[] ids = new long[n];
        long[] labels = new long[n];
        for (int j = 0; j < n; j++) {
            int r = j - prompt.length;
            ids[j] = r < 0 ? prompt[j] : r < response.length ? response[r] : eos;
            labels[j] = r < 0 ? DataCollatorWithPadding.IGNORE_INDEX : ids[j];
        }
        return new Example(ids, labels);
    }

    /**
     * Right-pads a batch: input_ids (B, T) with the pad id, attention_mask (B, T), labels (B, T) with -100 at padding.
     */
    static ModelBatch collate(NDManager scope, List<Example> rows, long padId) {
        int b = rows.size();
        int t = 0;
        for (Example e : rows) t = Math.max(t, e.inputIds().length);
        long[] ids = new long[b * t];
        long[] mask = new long[b * t];
        long[] labels = new long[b * t];
        Arrays.fill(ids, padId);
        Arrays.fill(labels, DataCollatorWithPadding.IGNORE_INDEX);
        long real = 0;
        for (int i = 0; i < b; i++) {
            Example e = rows.get(i);
            int n = e.inputIds().length;
            System.arraycopy(e.inputIds(), 0, ids, i * t, n);
            System.arraycopy(e.labels(), 0, labels, i * t, n);
            Arrays.fill(mask, i * t, i * t + n, 1L);
            real += n;
        }
        Shape s = new Shape(b, t);
        return new ModelBatch(new NDList(scope.create(ids, s), scope.create(mask, s)), scope.create(labels, s), real);
    }

    /** Tokens whose label is learned (after the shift: positions 1 … L-1 with a label). */
    static long predicted(List<Example> rows) {
        long n = 0;
        for (Example e : rows) {
            long[] l = e.labels();
            for (int j = 1; j < l.length; j++) if (l[j] != DataCollatorWithPadding.IGNORE_INDEX) n++;
        }
        return n;
    }

    /**
     * A checkpoint folder holding {@code config}'s model at HF's initialisation after {@code torch.manual_seed(seed)}
     * and the tokenizer files of {@code tokenizerDir}: the source a from-scratch fit loads.
     */
    static void writeInitialCheckpoint(ObjectNode config, Path tokenizerDir, long seed, Path dir) throws IOException {
        writeInitialCheckpoint(config, Task.CAUSAL_LM, tokenizerDir, seed, dir);
    }

    /** {@link #writeInitialCheckpoint(ObjectNode, Path, long, Path)} for any task's model (seq2seq too). */
    static void writeInitialCheckpoint(ObjectNode config, Task task, Path tokenizerDir, long seed, Path dir)
            throws IOException {
        PretrainedModel block = AutoModels.fromConfig(config, task);
        try (TrainingLock.Held lock = TrainingLock.acquire();
                NDManager m = NDManager.newBaseManager(ai.djl.Device.cpu())) {
            TrainStep.seedTorch(seed);
            block.initialize(m);
            Files.createDirectories(dir);
            ObjectNode c = block.configJson();
            c.putArray("architectures").add(block.architecture());
            Json.write(dir.resolve(HfCheckpoint.CONFIG), c);
            SafetensorsWriter.write(dir.resolve(HfCheckpoint.WEIGHTS), StateDict.of(block), Map.of("format", "pt"));
        }
        for (String f : List.of(HfCheckpoint.TOKENIZER, HfCheckpoint.TOKENIZER_CONFIG)) {
            Path from = tokenizerDir.resolve(f);
            if (!Files.isRegularFile(from)) {
                throw new IOException(tokenizerDir + " has no " + f + ": a from-scratch model needs the tokenizer "
                        + "files (tokenizer.json, tokenizer_config.json)");
            }
            Files.copy(from, dir.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** This task training the LoRA adapter {@code adapter} (null: the model's weights) with the base frozen. */
    CausalLanguageModelingTask withLora(io.sparkformers.nn.lora.LoraConfig adapter) {
        this.lora = adapter;
        return this;
    }

    private final class Fit extends PretrainedTextFit {
        private List<Example> examples; // by global example index, null where not this rank's
        private List<Example> evalData;
        private Specials specials;
        private int maxLength;
        /** From scratch: the folder of the initial checkpoint, made in prepare (the source loaded). */
        private final Path scratchDir;

        Fit(TrainingRun run, Trainer.Shard shard, TrainingDataset eval, Path scratchDir) {
            super(run, scratchDir == null ? model : scratchDir, shard, eval, "causal-LM training");
            this.scratchDir = scratchDir;
        }

        @Override
        void prepare() throws IOException {
            run.checkArguments(evalRows != null);
            if (scratchDir != null) writeInitialCheckpoint(scratchConfig, model, run.args.seed(), scratchDir);
            HfCheckpoint ckpt = HfCheckpoint.open(source);
            JsonNode cfg = ckpt.config();
            int positions = cfg.path("n_positions")
                    .asInt(cfg.path("max_position_embeddings").asInt(Integer.MAX_VALUE));
            maxLength = Math.min(blockSize, Math.min(ckpt.tokenizerConfig().modelMaxLength(), positions));
            try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.builder()
                    .optTokenizerPath(ckpt.tokenizerJson())
                    .optAddSpecialTokens(true)
                    .optTruncation(false)
                    .optPadding(false)
                    .build()) {
                specials = specials(ckpt, tok);
                ChatTemplate template = chat ? chatTemplate(ckpt) : null;
                java.util.function.BiFunction<TextDataset, String, List<Example>> featurizer =
                        (rows, what) -> featurize(
                                rows, tok, specials, maxLength, groupTexts, instruction, template, run.world > 1, what);
                List<Example> train = featurizer.apply(trainRows, "training");
                examples = examplesByGlobalIndex(
                        train,
                        shard,
                        groupTexts,
                        maxLength,
                        "block_size",
                        Example::inputIds,
                        ids -> new Example(ids, ids),
                        "causal-LM");
                if (evalRows != null) {
                    evalData =
                            evalRows.isEmpty() && run.world > 1 ? List.of() : featurizer.apply(evalRows, "evaluation");
                }
            }
            run.planSteps(examples.size(), null);
            loadModel(Task.CAUSAL_LM, c -> c, lora, "CAUSAL_LM"); // PEFT task_type
        }

        @Override
        ModelBatch collate(NDManager scope, int[] micro) {
            List<Example> rows = new ArrayList<>(micro.length);
            for (int i : micro) {
                Example e = examples.get(i);
                if (e == null) {
                    throw new IllegalStateException("rank " + run.dp.rank() + " was not given training example " + i
                            + " that its micro-batches need");
                }
                rows.add(e);
            }
            return CausalLanguageModelingTask.collate(scope, rows, specials.padId());
        }

        @Override
        TrainingLoss loss() {
            return TrainingLoss.causalLanguageModeling();
        }

        @Override
        boolean hasEvalData() {
            return evalData != null;
        }

        @Override
        Evaluation.Partial evaluatePartial(int batchSize) {
            return perplexityPartial(
                    evalData,
                    batchSize,
                    rows -> new PerplexityBatch(
                            predicted(rows),
                            scope -> CausalLanguageModelingTask.collate(scope, rows, specials.padId())));
        }

        @Override
        String curveMetric() {
            return "perplexity";
        }

        @Override
        Map<String, Object> provenance(Map<String, Double> initial, long evalExamples) {
            Map<String, Object> p = baseProvenance(
                    chat ? "causal_lm_chat" : instruction ? "causal_lm_instruction" : "causal_lm", initial);
            if (scratchConfig != null) {
                p.put("source_checkpoint", null);
                p.put("from_scratch", true);
                p.put("tokenizer", model.toAbsolutePath().normalize().toString());
            }
            p.put("block_size", maxLength);
            p.put("group_texts", groupTexts);
            long trainExamples = examples.size();
            p.put("data", dataProvenance(trainRows, trainExamples, evalRows, "examples", evalExamples));
            return p;
        }

        @Override
        public void close() {
            super.close();
            if (scratchDir != null) {
                try {
                    CheckpointManager.deleteRecursively(scratchDir);
                } catch (IOException e) {
                    // a temporary folder left behind is not worth failing the fit for
                }
            }
        }
    }
}
