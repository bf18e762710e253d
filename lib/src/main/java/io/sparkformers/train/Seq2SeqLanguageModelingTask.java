package io.sparkformers.train;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.generation.GenerationConfig;
import io.sparkformers.generation.GenerationOutput;
import io.sparkformers.generation.Generator;
import io.sparkformers.generation.Seq2SeqScorer;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.Json;
import io.sparkformers.hub.SpecialTokenTruncation;
import io.sparkformers.metrics.Seq2SeqGenerationState;
import io.sparkformers.nn.NoGrad;
import io.sparkformers.nn.Seq2SeqLanguageModel;
import io.sparkformers.nn.Task;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Sequence-to-sequence training for the {@link Trainer}, as HF's {@code run_summarization.py} /
 * {@code run_translation.py} with {@code Seq2SeqTrainer}: an encoder-decoder ({@code AutoModelForSeq2SeqLM}: BART,
 * T5, Marian) from a checkpoint. Rows are {@link TextDataset} rows, {@code text} the source and {@code textPair} the
 * target. Each source is {@code source_prefix} + text tokenized with the tokenizer's specials and truncated to
 * {@code max_source_length}; the labels are the target's ids (with specials) truncated to {@code max_target_length};
 * truncation keeps the special tokens, as HF's {@code tokenizer(…, max_length=n, truncation=True)} does
 * ({@link SpecialTokenTruncation}).
 * Batches as HF's {@code DataCollatorForSeq2Seq}: input_ids right-padded with the pad id, attention_mask, labels padded
 * with -100, and {@code decoder_input_ids} = the labels shifted right with {@code decoder_start_token_id} first and
 * -100 replaced by the pad id (HF {@code shift_tokens_right}); the decoder is causal and its padding is only hidden
 * from the loss, as in HF. Loss: cross-entropy over the labels that are not -100 (mean over the batch's tokens).
 *
 * <p>Evaluation reports {@code eval_loss}; with {@code predictWithGenerate} (HF {@code predict_with_generate}) it also
 * generates each evaluation source (the checkpoint's generation config, {@code max_new_tokens} =
 * {@code generationMaxLength}, {@code num_beams} = {@code generationNumBeams}) and scores the decoded texts against the
 * targets: {@code eval_rouge1/2/L/Lsum} (Porter-stemmed, as the HF script asks), {@code eval_bleu}, {@code eval_chrf}, {@code eval_gen_len}
 * ({@link Seq2SeqGenerationState}).
 */
final class Seq2SeqLanguageModelingTask extends TrainingTask {

    private final java.nio.file.Path model;
    private final int maxSourceLength;
    private final int maxTargetLength;
    private final String sourcePrefix;
    private final boolean predictWithGenerate;
    private final int generationMaxLength;
    private final int generationNumBeams;

    Seq2SeqLanguageModelingTask(
            java.nio.file.Path model,
            int maxSourceLength,
            int maxTargetLength,
            String sourcePrefix,
            boolean predictWithGenerate,
            int generationMaxLength,
            int generationNumBeams) {
        this.model = Objects.requireNonNull(model, "model");
        if (maxSourceLength <= 0) {
            throw new IllegalArgumentException("max_source_length must be > 0 but was " + maxSourceLength);
        }
        if (maxTargetLength <= 0) {
            throw new IllegalArgumentException("max_target_length must be > 0 but was " + maxTargetLength);
        }
        if (generationMaxLength <= 0) {
            throw new IllegalArgumentException("generation_max_length must be > 0 but was " + generationMaxLength);
        }
        if (generationNumBeams <= 0) {
            throw new IllegalArgumentException("generation_num_beams must be > 0 but was " + generationNumBeams);
        }
        this.maxSourceLength = maxSourceLength;
        this.maxTargetLength = maxTargetLength;
        this.sourcePrefix = sourcePrefix == null ? "" : sourcePrefix;
        this.predictWithGenerate = predictWithGenerate;
        this.generationMaxLength = generationMaxLength;
        this.generationNumBeams = generationNumBeams;
    }

    @Override
    void checkMode(TransferMode mode) {
        refuseFeatureExtraction(mode, "seq2seq training has no new head to train alone");
    }

    @Override
    TaskFit start(TrainingRun run, Trainer.Shard train, TrainingDataset eval) throws IOException {
        return TaskFit.started(new Fit(run, train, eval));
    }

    /**
     * One tokenized pair.
     *
     * @param inputIds (S) source ids
     * @param labels   (T) target ids
     * @param target   the target text (the reference generated texts are scored against)
     */
    record Example(long[] inputIds, long[] labels, String target) {}

    /** Rows → pairs; a row without a source or target text is refused, naming it. */
    static List<Example> featurize(
            TextDataset data, HuggingFaceTokenizer tok, String prefix, int maxSource, int maxTarget, String what) {
        List<Example> out = new ArrayList<>(data.size());
        SpecialTokenTruncation cut = SpecialTokenTruncation.of(tok);
        for (TextDataset.Row r : data.rows()) {
            if (r.text() == null || r.textPair() == null) {
                throw new IllegalArgumentException("seq2seq " + what + " row " + r.id() + " of " + data.description()
                        + " has no " + (r.text() == null ? "source" : "target") + " text: give every row both columns");
            }
            long[] src = cut.truncate(tok.encode(prefix + r.text()).getIds(), maxSource);
            long[] tgt = cut.truncate(tok.encode(r.textPair()).getIds(), maxTarget);
            if (tgt.length == 0) {
                throw new IllegalArgumentException("seq2seq " + what + " row " + r.id() + " of " + data.description()
                        + " has a target with no tokens: drop empty targets");
            }
            out.add(new Example(src, tgt, r.textPair()));
        }
        return out;
    }

    /** HF {@code shift_tokens_right}: start token first, the labels after it (last dropped), -100 → pad. */
    static long[] shiftTokensRight(long[] labels, long padId, long decoderStartId) {
        long[] out = new long[labels.length];
        out[0] = decoderStartId;
        for (int j = 1; j < labels.length; j++) {
            long v = labels[j - 1];
            out[j] = v == DataCollatorWithPadding.IGNORE_INDEX ? padId : v;
        }
        return out;
    }

    /**
     * HF {@code DataCollatorForSeq2Seq} + the model's {@code prepare_decoder_input_ids_from_labels}: input_ids (B, S)
     * padded with padId, attention_mask (B, S), decoder_input_ids (B, T); labels (B, T) padded with -100.
     */
    static ModelBatch collate(NDManager scope, List<Example> rows, long padId, long decoderStartId) {
        int b = rows.size();
        int s = 0;
        int t = 0;
        for (Example e : rows) {
            s = Math.max(s, e.inputIds().length);
            t = Math.max(t, e.labels().length);
        }
        long[] ids = new long[b * s];
        long[] mask = new long[b * s];
        long[] labels = new long[b * t];
        long[] decoder = new long[b * t];
        Arrays.fill(ids, padId);
        Arrays.fill(labels, DataCollatorWithPadding.IGNORE_INDEX);
        long real = 0;
        for (int i = 0; i < b; i++) {
            Example e = rows.get(i);
            System.arraycopy(e.inputIds(), 0, ids, i * s, e.inputIds().length);
            Arrays.fill(mask, i * s, i * s + e.inputIds().length, 1L);
            System.arraycopy(e.labels(), 0, labels, i * t, e.labels().length);
            real += e.labels().length;
        }
        for (int i = 0; i < b; i++) {
            long[] row = Arrays.copyOfRange(labels, i * t, (i + 1) * t);
            System.arraycopy(shiftTokensRight(row, padId, decoderStartId), 0, decoder, i * t, t);
        }
        return new ModelBatch(
                new NDList(
                        scope.create(ids, new Shape(b, s)),
                        scope.create(mask, new Shape(b, s)),
                        scope.create(decoder, new Shape(b, t))),
                scope.create(labels, new Shape(b, t)),
                real);
    }

    private final class Fit extends PretrainedTextFit {
        private List<Example> examples;
        private List<Example> evalData;
        private long padId;
        private long decoderStartId;
        private HuggingFaceTokenizer tokenizer;
        private GenerationConfig generation;

        Fit(TrainingRun run, Trainer.Shard shard, TrainingDataset eval) {
            super(run, model, shard, eval, "seq2seq training");
        }

        @Override
        void prepare() throws IOException {
            run.checkArguments(evalRows != null);
            HfCheckpoint ckpt = HfCheckpoint.open(source);
            JsonNode cfg = ckpt.config();
            if (!cfg.hasNonNull("pad_token_id") || !cfg.hasNonNull("decoder_start_token_id")) {
                throw new IllegalArgumentException(source + "/config.json needs pad_token_id and "
                        + "decoder_start_token_id for seq2seq training (HF shift_tokens_right needs both)");
            }
            padId = cfg.get("pad_token_id").asLong();
            decoderStartId = cfg.get("decoder_start_token_id").asLong();
            int cap = ckpt.tokenizerConfig().modelMaxLength();
            tokenizer = HuggingFaceTokenizer.builder()
                    .optTokenizerPath(ckpt.tokenizerJson())
                    .optAddSpecialTokens(true)
                    .optTruncation(false)
                    .optPadding(false)
                    .build();
            int maxSource = Math.min(maxSourceLength, cap);
            int maxTarget = Math.min(maxTargetLength, cap);
            List<Example> train = featurize(trainRows, tokenizer, sourcePrefix, maxSource, maxTarget, "training");
            examples = new ArrayList<>(Collections.nCopies(shard.numExamples(), (Example) null));
            for (int k = 0; k < shard.indices().length; k++) examples.set(shard.indices()[k], train.get(k));
            if (evalRows != null) {
                evalData = featurize(evalRows, tokenizer, sourcePrefix, maxSource, maxTarget, "evaluation");
            }
            if (predictWithGenerate) {
                ObjectNode opts = Json.MAPPER.createObjectNode();
                opts.put("max_new_tokens", generationMaxLength);
                opts.put("num_beams", generationNumBeams);
                generation = GenerationConfig.forCheckpoint(source, opts);
            }
            run.planSteps(shard.numExamples(), null);
            loadModel(Task.SEQ2SEQ_LM, c -> c);
            if (!(hf.block() instanceof Seq2SeqLanguageModel)) {
                throw new IllegalArgumentException(source + " is not an encoder-decoder ("
                        + hf.block().architecture() + "): seq2seq training needs BART, T5 or Marian");
            }
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
            return Seq2SeqLanguageModelingTask.collate(scope, rows, padId, decoderStartId);
        }

        @Override
        TrainingLoss loss() {
            return TrainingLoss.maskedLanguageModeling(); // cross-entropy over labels != -100, no shift
        }

        @Override
        boolean hasEvalData() {
            return evalData != null;
        }

        @Override
        Evaluation.Partial evaluatePartial(int batchSize) {
            long t0 = System.nanoTime();
            Seq2SeqGenerationState state = new Seq2SeqGenerationState();
            double lossSum = 0;
            long n = 0;
            int steps = 0;
            for (int from = 0; from < evalData.size(); from += batchSize) {
                List<Example> rows = evalData.subList(from, Math.min(evalData.size(), from + batchSize));
                steps++;
                double loss = evaluationLoss(
                        scope -> Seq2SeqLanguageModelingTask.collate(scope, rows, padId, decoderStartId));
                if (predictWithGenerate) {
                    try (TrainingLock.Held lock = TrainingLock.acquire();
                            NoGrad g = NoGrad.enter()) {
                        generate(rows, state);
                    }
                }
                lossSum += loss * rows.size();
                n += rows.size();
            }
            return new Evaluation.Partial(lossSum, n, steps, state, (System.nanoTime() - t0) / 1e9);
        }

        /** Generates the rows' sources as one right-padded batch and scores the texts against the targets. */
        private void generate(List<Example> rows, Seq2SeqGenerationState state) {
            int b = rows.size();
            int width = 0;
            for (Example e : rows) width = Math.max(width, e.inputIds().length);
            long[][] ids = new long[b][width];
            long[][] mask = new long[b][width];
            for (int i = 0; i < b; i++) {
                long[] s = rows.get(i).inputIds();
                Arrays.fill(ids[i], padId);
                System.arraycopy(s, 0, ids[i], 0, s.length);
                Arrays.fill(mask[i], 0, s.length, 1L);
            }
            long[][][] prompt = Seq2SeqScorer.decoderPrompt(b, generation.decoderStartTokenId());
            GenerationOutput out = Generator.generate(
                    Seq2SeqScorer.factory(
                            (Seq2SeqLanguageModel) hf.block(),
                            ids,
                            mask,
                            hf.manager().getDevice()),
                    prompt[0],
                    prompt[1],
                    generation,
                    t -> tokenizer.decode(t, false),
                    null);
            int per = out.sequences().length / b;
            for (int i = 0; i < b; i++) {
                long[] seq = out.sequences()[i * per];
                String text = tokenizer.decode(seq, true);
                int tokens = tokenizer.encode(text, false, false).getIds().length;
                state.add(text, rows.get(i).target(), tokens);
            }
        }

        @Override
        String curveMetric() {
            return predictWithGenerate ? "rougeL" : "loss";
        }

        @Override
        Map<String, Object> provenance(Map<String, Double> initial, long evalExamples) {
            Map<String, Object> p = baseProvenance("seq2seq", initial);
            p.put("max_source_length", maxSourceLength);
            p.put("max_target_length", maxTargetLength);
            p.put("source_prefix", sourcePrefix);
            p.put("predict_with_generate", predictWithGenerate);
            p.put("data", dataProvenance(trainRows, shard.numExamples(), evalRows, "examples", evalExamples));
            return p;
        }

        @Override
        public void close() {
            super.close();
            if (tokenizer != null) tokenizer.close();
        }
    }
}
