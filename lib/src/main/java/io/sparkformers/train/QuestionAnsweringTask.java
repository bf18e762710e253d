package io.sparkformers.train;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.metrics.SquadState;
import io.sparkformers.nn.NoGrad;
import io.sparkformers.nn.Task;
import io.sparkformers.pipeline.QuestionAnsweringPipeline;
import io.sparkformers.pipeline.QuestionAnsweringPipeline.Span;
import io.sparkformers.train.DataCollatorWithPadding.Batch;
import io.sparkformers.train.QaFeatures.Feature;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Extractive question answering for the {@link Trainer}, as HF's {@code run_qa.py}: a pretrained text checkpoint
 * loaded as {@code AutoModelForQuestionAnswering} (a base checkpoint gets a new, seeded {@code qa_outputs}); each row
 * (question, context, answer) becomes the windows of {@link QaFeatures} ({@code [CLS] question [SEP] context-window
 * [SEP]}, windows overlapping by {@code doc_stride}), labelled with the answer's first and last token, or CLS (0) for a
 * window that does not hold the whole answer (HF {@code prepare_train_features}); the loss is HF's start/end
 * cross-entropy ({@link TrainingLoss#questionAnswering}).
 *
 * <p>Evaluation: {@code eval_loss} over the windows (HF counts windows as eval samples), then SQuAD
 * {@code exact_match} and {@code f1} ({@link SquadState}) of each question's predicted answer: every window's best
 * span by the QA pipeline's rule ({@link QuestionAnsweringPipeline#selectSpans}: question and specials masked,
 * softmaxed start × end, start ≤ end < start + max_answer_length), the best over the question's windows, its
 * characters from the token offsets (HF {@code postprocess_qa_predictions}; no widening to whole words).
 *
 * <p>Unlike HF, whose dataset is the windows, an example here is a question: a micro-batch of b questions trains on all
 * their windows, so data parallelism splits questions, never the windows of one.
 */
final class QuestionAnsweringTask extends TrainingTask {

    private final Path model;
    private final int maxSeqLength;
    private final int docStride;
    private final int maxAnswerLength;

    QuestionAnsweringTask(Path model, int maxSeqLength, int docStride, int maxAnswerLength) {
        this.model = Objects.requireNonNull(model, "model");
        if (maxSeqLength <= 0) {
            throw new IllegalArgumentException("max_seq_length must be > 0 but was " + maxSeqLength);
        }
        if (docStride < 0 || docStride >= maxSeqLength) {
            throw new IllegalArgumentException(
                    "doc_stride must be in [0, max_seq_length " + maxSeqLength + ") but was " + docStride);
        }
        if (maxAnswerLength <= 0) {
            throw new IllegalArgumentException("max_answer_length must be > 0 but was " + maxAnswerLength);
        }
        this.maxSeqLength = maxSeqLength;
        this.docStride = docStride;
        this.maxAnswerLength = maxAnswerLength;
    }

    @Override
    void checkMode(TransferMode mode) {
        refuseFeatureExtraction(mode, "question answering trains the encoder");
    }

    @Override
    TaskFit start(TrainingRun run, Trainer.Shard train, TrainingDataset eval) throws IOException {
        return TaskFit.started(new Fit(run, train, eval));
    }

    /**
     * One question with its windows.
     *
     * @param context  the context, for the predicted answer's text
     * @param answer   the gold answer
     * @param features its windows with their start/end labels
     */
    record Question(String context, String answer, List<Feature> features) {}

    /** HF {@code prepare_train_features} for one row: question as text, context as text pair, answer as label. */
    static Question featurize(
            TextDataset.Row row, HuggingFaceTokenizer words, long clsId, long sepId, int maxSeqLength, int docStride) {
        String id = row.id();
        if (row.text() == null || row.textPair() == null) {
            throw new IllegalArgumentException("row " + id + ": question answering needs a question (text) and a "
                    + "context (text pair), got " + (row.text() == null ? "no question" : "no context"));
        }
        if (row.label() == null || row.label().isEmpty()) {
            throw new IllegalArgumentException("row " + id + ": the answer is missing: drop unanswered rows");
        }
        int answerStart = row.textPair().indexOf(row.label());
        if (answerStart < 0) {
            throw new IllegalArgumentException("row " + id + ": the answer '" + row.label()
                    + "' does not occur in the context: extractive QA needs a span of the context");
        }
        long[] question = words.encode(row.text()).getIds();
        Encoding context = words.encode(row.textPair());
        long[] ids = context.getIds();
        if (ids.length == 0) throw new IllegalArgumentException("row " + id + ": the context has no tokens");
        int[] starts = new int[ids.length];
        int[] ends = new int[ids.length];
        CharSpan[] spans = context.getCharTokenSpans();
        int[] utf16 = utf16Index(row.textPair());
        for (int i = 0; i < ids.length; i++) {
            starts[i] = utf16[spans[i].getStart()];
            ends[i] = utf16[spans[i].getEnd()];
        }
        List<Feature> features = QaFeatures.features(
                question,
                ids,
                starts,
                ends,
                clsId,
                sepId,
                maxSeqLength,
                docStride,
                answerStart,
                answerStart + row.label().length());
        return new Question(row.textPair(), row.label(), features);
    }

    /** Code point index → UTF-16 index, one past the end included (the tokenizers library counts code points). */
    private static int[] utf16Index(String text) {
        int cps = text.codePointCount(0, text.length());
        int[] map = new int[cps + 1];
        int u = 0;
        for (int c = 0; c < cps; c++) {
            map[c] = u;
            u += Character.charCount(text.codePointAt(u));
        }
        map[cps] = u;
        return map;
    }

    /** Windows → a padded batch of (input_ids, attention_mask, token_type_ids) and labels (W, 2). */
    static ModelBatch windowBatch(NDManager scope, List<Feature> windows, DataCollatorWithPadding padding) {
        List<DataCollatorWithPadding.Example> rows = new ArrayList<>(windows.size());
        long[] positions = new long[2 * windows.size()];
        for (int w = 0; w < windows.size(); w++) {
            Feature f = windows.get(w);
            rows.add(new DataCollatorWithPadding.Example(f.inputIds(), null, f.tokenTypeIds(), null));
            positions[2 * w] = f.startPosition();
            positions[2 * w + 1] = f.endPosition();
        }
        Batch b = padding.collate(rows);
        return new ModelBatch(
                MaskedLanguageModelingTask.inputs(scope, b),
                scope.create(positions, new Shape(windows.size(), 2)),
                b.realTokens());
    }

    /** HF's p_mask of a window: 0 for context tokens and [CLS], 1 for the rest. */
    static int[] pMask(Feature f) {
        int[] p = new int[f.sequenceIds().length];
        for (int i = 0; i < p.length; i++) p[i] = f.sequenceIds()[i] == 1 || i == 0 ? 0 : 1;
        return p;
    }

    private final class Fit extends PretrainedTextFit {
        private List<Question> questions; // by global example index, null where not this rank's
        private List<Question> evalData;
        private DataCollatorWithPadding padding;

        Fit(TrainingRun run, Trainer.Shard shard, TrainingDataset eval) {
            super(run, model, shard, eval, "question answering");
        }

        @Override
        void prepare() throws IOException {
            run.checkArguments(evalRows != null);
            HfCheckpoint ckpt = HfCheckpoint.open(model);
            int limit = Math.min(
                    ckpt.tokenizerConfig().modelMaxLength(),
                    ckpt.config().path("max_position_embeddings").asInt(Integer.MAX_VALUE));
            if (maxSeqLength > limit) {
                throw new IllegalArgumentException(
                        "max_seq_length " + maxSeqLength + " exceeds the model's limit of " + limit + " tokens");
            }
            try (TextTokenizer tok = TextTokenizer.load(ckpt, maxSeqLength);
                    HuggingFaceTokenizer words = HuggingFaceTokenizer.builder()
                            .optTokenizerPath(ckpt.tokenizerJson())
                            .optAddSpecialTokens(false)
                            .optTruncation(false)
                            .optPadding(false)
                            .build()) {
                padding = new DataCollatorWithPadding(tok.padTokenId());
                long cls = tok.singleTokenId(tok.config().clsToken());
                long sep = tok.singleTokenId(tok.config().sepToken());
                if (trainRows.isEmpty()) {
                    throw new IllegalArgumentException("the training dataset (" + trainRows.description()
                            + ") is empty: check the path, the filter and data.limit");
                }
                questions = new ArrayList<>(Collections.nCopies(shard.numExamples(), (Question) null));
                List<String> errors = new ArrayList<>();
                for (int k = 0; k < shard.indices().length; k++) {
                    try {
                        questions.set(
                                shard.indices()[k],
                                featurize(trainRows.rows().get(k), words, cls, sep, maxSeqLength, docStride));
                    } catch (IllegalArgumentException e) {
                        if (errors.size() < TrainingData.MAX_REPORTED) errors.add(e.getMessage());
                    }
                }
                if (!errors.isEmpty()) {
                    throw new IllegalArgumentException("the training dataset (" + trainRows.description()
                            + ") has bad rows:\n  " + String.join("\n  ", errors));
                }
                if (evalRows != null) {
                    evalData = new ArrayList<>();
                    for (TextDataset.Row r : evalRows.rows()) {
                        evalData.add(featurize(r, words, cls, sep, maxSeqLength, docStride));
                    }
                }
            }
            run.planSteps(shard.numExamples(), null);
            loadModel(Task.QUESTION_ANSWERING, QuestionAnsweringTask::twoLabels);
        }

        @Override
        ModelBatch collate(NDManager scope, int[] micro) {
            List<Feature> windows = new ArrayList<>();
            for (int i : micro) {
                Question q = questions.get(i);
                if (q == null) {
                    throw new IllegalStateException("rank " + run.dp.rank() + " was not given training example " + i
                            + " that its micro-batches need");
                }
                windows.addAll(q.features());
            }
            return windowBatch(scope, windows, padding);
        }

        @Override
        NDArray forward(ParameterStore ps, NDList inputs) {
            NDList startEnd = hf.block().forward(ps, inputs, true);
            return NDArrays.stack(startEnd, 2); // 2 x (B, T) -> (B, T, 2)
        }

        @Override
        TrainingLoss loss() {
            return TrainingLoss.questionAnswering();
        }

        @Override
        boolean hasEvalData() {
            return evalData != null;
        }

        @Override
        Evaluation.Partial evaluatePartial(int batchSize) {
            long t0 = System.nanoTime();
            SquadState squad = new SquadState();
            double lossSum = 0;
            long windows = 0;
            int steps = 0;
            for (int from = 0; from < evalData.size(); from += batchSize) {
                List<Question> chunk = evalData.subList(from, Math.min(evalData.size(), from + batchSize));
                List<Feature> all = new ArrayList<>();
                for (Question q : chunk) all.addAll(q.features());
                float[] start;
                float[] end;
                int t;
                double loss;
                try (TrainingLock.Held lock = TrainingLock.acquire();
                        NDManager scope = hf.manager().newSubManager();
                        NoGrad g = NoGrad.enter()) {
                    ModelBatch b = windowBatch(scope, all, padding);
                    NDList out = hf.block().forward(new ParameterStore(scope, false), b.inputs(), false);
                    NDArray stacked = NDArrays.stack(out, 2);
                    loss = loss().compute(stacked, b.labels()).getFloat();
                    t = (int) out.get(0).getShape().get(1);
                    start = out.get(0).toFloatArray();
                    end = out.get(1).toFloatArray();
                }
                lossSum += loss * all.size();
                windows += all.size();
                steps++;
                int w = 0;
                for (Question q : chunk) {
                    String best = "";
                    double bestScore = Double.NEGATIVE_INFINITY;
                    for (Feature f : q.features()) {
                        int n = f.inputIds().length;
                        float[] s = java.util.Arrays.copyOfRange(start, w * t, w * t + n);
                        float[] e = java.util.Arrays.copyOfRange(end, w * t, w * t + n);
                        w++;
                        List<Span> spans = QuestionAnsweringPipeline.selectSpans(s, e, pMask(f), 1, maxAnswerLength)
                                .spans();
                        if (spans.isEmpty()) continue;
                        Span span = spans.get(0);
                        if (span.score() > bestScore && f.offsetStarts()[span.start()] >= 0) {
                            bestScore = span.score();
                            best = q.context().substring(f.offsetStarts()[span.start()], f.offsetEnds()[span.end()]);
                        }
                    }
                    squad.add(best, List.of(q.answer()));
                }
            }
            return new Evaluation.Partial(lossSum, windows, steps, squad, (System.nanoTime() - t0) / 1e9);
        }

        @Override
        String curveMetric() {
            return "f1";
        }

        @Override
        Map<String, Object> provenance(Map<String, Double> initial, long evalExamples) {
            Map<String, Object> p = baseProvenance("question_answering", initial);
            p.put("max_seq_length", maxSeqLength);
            p.put("doc_stride", docStride);
            p.put("max_answer_length", maxAnswerLength);
            p.put("data", dataProvenance(trainRows, shard.numExamples(), evalRows, "windows", evalExamples));
            return p;
        }
    }

    /** A QA head has two outputs (start, end): HF's default LABEL_0, LABEL_1, whatever the source's labels were. */
    private static ObjectNode twoLabels(ObjectNode config) {
        ObjectNode id2label = config.putObject("id2label");
        ObjectNode label2id = config.putObject("label2id");
        for (int i = 0; i < 2; i++) {
            id2label.put(Integer.toString(i), "LABEL_" + i);
            label2id.put("LABEL_" + i, i);
        }
        config.remove("problem_type");
        return config;
    }
}
