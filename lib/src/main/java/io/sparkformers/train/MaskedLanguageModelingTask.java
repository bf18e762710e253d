package io.sparkformers.train;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.hub.TokenizerConfig;
import io.sparkformers.metrics.PerplexityState;
import io.sparkformers.nn.Task;
import io.sparkformers.train.DataCollatorForLanguageModeling.Example;
import io.sparkformers.train.DataCollatorWithPadding.Batch;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Masked-language-model training for the {@link Trainer}, as HF's {@code run_mlm.py}: a pretrained text checkpoint
 * loaded as {@code AutoModelForMaskedLM} (a base checkpoint gets a new, seeded MLM head), texts tokenized with their
 * special tokens, then either concatenated and cut into blocks of {@code max_seq_length} tokens (HF's
 * {@code group_texts}; the remainder is dropped) or kept one per row, truncated and padded per batch
 * ({@code line_by_line}). Batches come from {@link DataCollatorForLanguageModeling}, seeded per (seed, step, example);
 * the loss is cross-entropy over the chosen tokens ({@link TrainingLoss#maskedLanguageModeling}); evaluation reports
 * {@code eval_loss} and {@code eval_perplexity} = exp(eval_loss) ({@link PerplexityState}), with evaluation masks
 * seeded by (seed, the example's tokens), so every evaluation of a run masks the same tokens.
 *
 * <p>Data parallel: an example is a row, except with {@code group_texts}: each replica packs its own rows into blocks
 * and the blocks are shared, so one remainder per shard is dropped ({@link PretrainedTextFit#examplesByGlobalIndex}).
 */
final class MaskedLanguageModelingTask extends TrainingTask {

    /** Stream salts of the masking seeds, apart from the dropout seeds (seed, step, micro-batch). */
    private static final long TRAIN_MASKS = 0x4D4C4D5452L;

    private static final long EVAL_MASKS = 0x4D4C4D4556L;

    private final Path model;
    /** The LoRA adapter trained instead of the model's weights, or null ({@link #withLora}). */
    private io.sparkformers.nn.lora.LoraConfig lora;

    private final int maxSeqLength;
    private final boolean groupTexts;
    private final double mlmProbability;
    private final boolean wholeWordMask;

    MaskedLanguageModelingTask(
            Path model, int maxSeqLength, boolean groupTexts, double mlmProbability, boolean wholeWordMask) {
        this.model = Objects.requireNonNull(model, "model");
        if (maxSeqLength <= 0) {
            throw new IllegalArgumentException("max_seq_length must be > 0 but was " + maxSeqLength);
        }
        if (!(mlmProbability > 0 && mlmProbability <= 1)) {
            throw new IllegalArgumentException("mlm_probability must be in (0, 1] but was " + mlmProbability);
        }
        this.maxSeqLength = maxSeqLength;
        this.groupTexts = groupTexts;
        this.mlmProbability = mlmProbability;
        this.wholeWordMask = wholeWordMask;
    }

    @Override
    void checkMode(TransferMode mode) {
        refuseFeatureExtraction(mode, "masked-LM training needs the encoder trainable");
    }

    @Override
    TaskFit start(TrainingRun run, Trainer.Shard train, TrainingDataset eval) throws IOException {
        return TaskFit.started(new Fit(run, train, eval));
    }

    /** Texts → examples: blocks of {@code blockSize} tokens (group_texts) or one truncated row each. */
    static List<Example> featurize(
            TextDataset data,
            HuggingFaceTokenizer tokenizer,
            DataCollatorForLanguageModeling collator,
            int maxSeqLength,
            boolean groupTexts,
            boolean perShard,
            String what) {
        data.requireRows(what);
        List<Example> out = new ArrayList<>();
        long[] ids = new long[0];
        boolean[] starts = new boolean[0];
        int total = 0;
        for (TextDataset.Row row : data.rows()) {
            Encoding e = tokenizer.encode(data.textOf(row, what));
            long[] rowIds = e.getIds();
            boolean[] rowStarts = wordStarts(collator, rowIds, e.getCharTokenSpans());
            if (!groupTexts) {
                int n = Math.min(rowIds.length, maxSeqLength);
                out.add(new Example(Arrays.copyOf(rowIds, n), Arrays.copyOf(rowStarts, n)));
                continue;
            }
            if (total + rowIds.length > ids.length) {
                int cap = Math.max(2 * ids.length, total + rowIds.length);
                ids = Arrays.copyOf(ids, cap);
                starts = Arrays.copyOf(starts, cap);
            }
            System.arraycopy(rowIds, 0, ids, total, rowIds.length);
            System.arraycopy(rowStarts, 0, starts, total, rowStarts.length);
            total += rowIds.length;
        }
        if (!groupTexts) return out;
        if (total < maxSeqLength && !perShard) {
            throw new IllegalArgumentException("the " + what + " dataset (" + data.description() + ") has " + total
                    + " tokens, fewer than one block of max_seq_length " + maxSeqLength
                    + ": add text, lower max_seq_length or turn group_texts off");
        }
        for (int from = 0; from + maxSeqLength <= total; from += maxSeqLength) { // HF drops the remainder
            long[] block = Arrays.copyOfRange(ids, from, from + maxSeqLength);
            boolean[] blockStarts = Arrays.copyOfRange(starts, from, from + maxSeqLength);
            blockStarts[0] = !collator.isSpecial(block[0]); // a block's first piece starts its (cut) word
            out.add(new Example(block, blockStarts));
        }
        return out;
    }

    /** A block as one long row: its ids, then its word starts as 0/1 (for the exchange of blocks between replicas). */
    private static long[] encode(Example e) {
        int n = e.inputIds().length;
        long[] row = Arrays.copyOf(e.inputIds(), 2 * n);
        for (int j = 0; j < n; j++) row[n + j] = e.wordStarts()[j] ? 1 : 0;
        return row;
    }

    private static Example decode(long[] row) {
        int n = row.length / 2;
        boolean[] starts = new boolean[n];
        for (int j = 0; j < n; j++) starts[j] = row[n + j] != 0;
        return new Example(Arrays.copyOf(row, n), starts);
    }

    private static boolean[] wordStarts(DataCollatorForLanguageModeling collator, long[] ids, CharSpan[] spans) {
        long[] begin = new long[ids.length];
        long[] end = new long[ids.length];
        for (int j = 0; j < ids.length; j++) {
            begin[j] = spans[j] == null ? 0 : spans[j].getStart();
            end[j] = spans[j] == null ? 0 : spans[j].getEnd();
        }
        return collator.wordStarts(ids, begin, end);
    }

    /** The tokenizer of {@code checkpoint} as run_mlm uses it: special tokens, truncation only line by line. */
    static HuggingFaceTokenizer tokenizer(HfCheckpoint checkpoint, int maxSeqLength, boolean groupTexts)
            throws IOException {
        return HuggingFaceTokenizer.builder()
                .optTokenizerPath(checkpoint.tokenizerJson())
                .optAddSpecialTokens(true)
                .optTruncation(!groupTexts)
                .optMaxLength(maxSeqLength)
                .optPadding(false)
                .build();
    }

    /** The collator for {@code checkpoint}'s tokenizer: its special tokens, [MASK] and the model's vocabulary. */
    static DataCollatorForLanguageModeling collator(
            HfCheckpoint checkpoint, TextTokenizer tok, double mlmProbability, boolean wholeWordMask)
            throws IOException {
        TokenizerConfig c = tok.config();
        List<Long> specials = new ArrayList<>();
        for (String s : new String[] {c.clsToken(), c.sepToken(), c.padToken(), c.maskToken(), c.unkToken()}) {
            if (s != null) specials.add(tok.singleTokenId(s));
        }
        if (c.maskToken() == null) {
            throw new IllegalArgumentException("the tokenizer has no mask token, which masked-LM training needs");
        }
        int vocab = checkpoint.config().path("vocab_size").asInt(0);
        return new DataCollatorForLanguageModeling(
                tok.padTokenId(),
                tok.singleTokenId(c.maskToken()),
                vocab,
                specials.stream().mapToLong(Long::longValue).toArray(),
                mlmProbability,
                0.8,
                0.1,
                wholeWordMask);
    }

    static NDList inputs(NDManager scope, Batch b) {
        Shape s = new Shape(b.batchSize(), b.seqLength());
        return new NDList(
                scope.create(b.inputIds(), s), scope.create(b.attentionMask(), s), scope.create(b.tokenTypeIds(), s));
    }

    /** This task training the LoRA adapter {@code adapter} (null: the model's weights) with the base frozen. */
    MaskedLanguageModelingTask withLora(io.sparkformers.nn.lora.LoraConfig adapter) {
        this.lora = adapter;
        return this;
    }

    private final class Fit extends PretrainedTextFit {
        private List<Example> examples; // by global example index, null where not this rank's
        private List<Example> evalData;
        private DataCollatorForLanguageModeling collator;
        private int maxLength;

        Fit(TrainingRun run, Trainer.Shard shard, TrainingDataset eval) {
            super(run, model, shard, eval, "masked-LM training");
        }

        @Override
        void prepare() throws IOException {
            run.checkArguments(evalRows != null);
            HfCheckpoint ckpt = HfCheckpoint.open(model);
            int limit = Math.min(
                    ckpt.tokenizerConfig().modelMaxLength(),
                    ckpt.config().path("max_position_embeddings").asInt(Integer.MAX_VALUE));
            maxLength = Math.min(maxSeqLength, limit); // run_mlm: min(max_seq_length, model_max_length)
            try (TextTokenizer tok = TextTokenizer.load(ckpt, maxLength);
                    HuggingFaceTokenizer hfTok = tokenizer(ckpt, maxLength, groupTexts)) {
                collator = collator(ckpt, tok, mlmProbability, wholeWordMask);
                List<Example> train =
                        featurize(trainRows, hfTok, collator, maxLength, groupTexts, run.world > 1, "training");
                examples = examplesByGlobalIndex(
                        train,
                        shard,
                        groupTexts,
                        maxLength,
                        "max_seq_length",
                        MaskedLanguageModelingTask::encode,
                        MaskedLanguageModelingTask::decode,
                        "masked-LM");
                if (evalRows != null) {
                    evalData = evalRows.isEmpty() && run.world > 1
                            ? List.of()
                            : featurize(evalRows, hfTok, collator, maxLength, groupTexts, run.world > 1, "evaluation");
                }
            }
            run.planSteps(examples.size(), null);
            loadModel(Task.MASKED_LM, c -> c, lora, null); // PEFT task_type (none for masked LM)
        }

        @Override
        ModelBatch collate(NDManager scope, int[] micro) {
            throw new IllegalStateException("masked-LM batches are seeded by their step");
        }

        @Override
        ModelBatch collate(NDManager scope, int[] micro, long globalStep) {
            List<Example> rows = new ArrayList<>(micro.length);
            long[] seeds = new long[micro.length];
            long stepSeed = DataSharding.mix(DataSharding.mix(run.args.seed(), TRAIN_MASKS), globalStep);
            for (int k = 0; k < micro.length; k++) {
                Example e = examples.get(micro[k]);
                if (e == null) {
                    throw new IllegalStateException("rank " + run.dp.rank() + " was not given training example "
                            + micro[k] + " that its micro-batches need");
                }
                rows.add(e);
                seeds[k] = DataSharding.mix(stepSeed, micro[k]);
            }
            Batch b = collator.collate(rows, seeds);
            return new ModelBatch(
                    inputs(scope, b), scope.create(b.labelIds(), new Shape(b.labelShape())), b.realTokens());
        }

        @Override
        TrainingLoss loss() {
            return TrainingLoss.maskedLanguageModeling();
        }

        @Override
        boolean hasEvalData() {
            return evalData != null;
        }

        @Override
        Evaluation.Partial evaluatePartial(int batchSize) {
            long evalSeed = DataSharding.mix(run.args.seed(), EVAL_MASKS);
            return perplexityPartial(evalData, batchSize, rows -> {
                long[] seeds = new long[rows.size()];
                for (int k = 0; k < seeds.length; k++) {
                    seeds[k] = DataSharding.mix(
                            evalSeed, Arrays.hashCode(rows.get(k).inputIds()));
                }
                Batch b = collator.collate(rows, seeds);
                long predicted = 0;
                for (long l : b.labelIds()) if (l != DataCollatorWithPadding.IGNORE_INDEX) predicted++;
                return new PerplexityBatch(
                        predicted,
                        scope -> new ModelBatch(
                                inputs(scope, b),
                                scope.create(b.labelIds(), new Shape(b.labelShape())),
                                b.realTokens()));
            });
        }

        @Override
        String curveMetric() {
            return "perplexity";
        }

        @Override
        Map<String, Object> provenance(Map<String, Double> initial, long evalExamples) {
            Map<String, Object> p = baseProvenance("masked_lm", initial);
            p.put("max_seq_length", maxLength);
            p.put("group_texts", groupTexts);
            p.put("mlm_probability", mlmProbability);
            p.put("whole_word_mask", wholeWordMask);
            long trainExamples = examples.size();
            p.put("data", dataProvenance(trainRows, trainExamples, evalRows, "examples", evalExamples));
            return p;
        }
    }
}
