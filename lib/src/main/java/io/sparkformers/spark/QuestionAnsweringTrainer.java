package io.sparkformers.spark;

import static org.apache.spark.sql.functions.col;

import io.sparkformers.nn.Task;
import io.sparkformers.train.DataCollatorWithPadding.LabelKind;
import java.util.List;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructType;

/**
 * HF's {@code run_qa.py} (extractive question answering) as a Spark ML Estimator: fine-tunes a pretrained checkpoint
 * on rows of a question ({@code questionCol}), a context ({@code contextCol}) and the answer text ({@code answerCol},
 * found at its first occurrence in the context) across {@code numWorkers} Spark tasks ({@link DistributedTraining}),
 * and returns a {@link QuestionAnsweringModel} over the fine-tuned checkpoint (HF layout, in {@code outputDir}).
 * Features as HF's {@code prepare_train_features}: windows of {@code maxLength} tokens sharing {@code docStride}
 * context tokens, start/end cross-entropy; evaluation reports SQuAD exact match and F1 of the best span of at most
 * {@code maxAnswerLen} tokens. The training Params are {@link TextClassifier}'s (HF TrainingArguments).
 */
public final class QuestionAnsweringTrainer
        extends TextFineTuningEstimator<QuestionAnsweringTrainer, QuestionAnsweringModel> {
    private static final long serialVersionUID = 1L;
    private static final String LABELS_DOC = "not used by question answering (answers are spans of the context)";

    private final Param<String> questionCol;
    private final Param<String> contextCol;
    private final Param<String> answerCol;
    private final IntParam docStride;
    private final IntParam maxAnswerLen;

    public QuestionAnsweringTrainer(String uid) {
        super(uid, LABELS_DOC);
        questionCol = new Param<>(this, "questionCol", "string column holding the question");
        contextCol = new Param<>(this, "contextCol", "string column holding the context the answer is taken from");
        answerCol = new Param<>(
                this,
                "answerCol",
                "string column of the answer text; its first occurrence in the context is the "
                        + "answer span (null or absent: no answer, the [CLS] position)");
        docStride = new IntParam(
                this,
                "docStride",
                "context tokens shared by consecutive windows of a long context (>= 0, less than "
                        + "the context tokens of a window; HF doc_stride)",
                ParamValidators.gtEq(0));
        maxAnswerLen = new IntParam(
                this,
                "maxAnswerLen",
                "most tokens in an answer, at evaluation and in the fitted model (> 0; HF " + "max_answer_length)",
                ParamValidators.gt(0));
        setDefault(questionCol, "question");
        setDefault(contextCol, "context");
        setDefault(answerCol, "answer");
        setDefault(docStride, 64);
        setDefault(maxAnswerLen, 30);
    }

    public QuestionAnsweringTrainer() {
        this(Identifiable$.MODULE$.randomUID("qaTrainer"));
    }

    public static MLReader<QuestionAnsweringTrainer> read() {
        return new DefaultParamsReader<>();
    }

    public static QuestionAnsweringTrainer load(String path) {
        return read().load(path);
    }

    // ------------------------------------------------------------------------------------------ Params

    public Param<String> questionCol() {
        return questionCol;
    }

    public Param<String> contextCol() {
        return contextCol;
    }

    public Param<String> answerCol() {
        return answerCol;
    }

    public IntParam docStride() {
        return docStride;
    }

    public IntParam maxAnswerLen() {
        return maxAnswerLen;
    }

    public QuestionAnsweringTrainer setQuestionCol(String v) {
        set(questionCol, v);
        return this;
    }

    public QuestionAnsweringTrainer setContextCol(String v) {
        set(contextCol, v);
        return this;
    }

    public QuestionAnsweringTrainer setAnswerCol(String v) {
        set(answerCol, v);
        return this;
    }

    public QuestionAnsweringTrainer setDocStride(int v) {
        set(docStride, v);
        return this;
    }

    public QuestionAnsweringTrainer setMaxAnswerLen(int v) {
        set(maxAnswerLen, v);
        return this;
    }

    // ------------------------------------------------------------------------------------------ fit

    @Override
    public StructType transformSchema(StructType schema) {
        requireModel();
        // QA trains every weight: a LoRA request is refused rather than silently trained in full
        if ((Integer) getOrDefault(loraR()) > 0) {
            throw new IllegalArgumentException("QuestionAnsweringTrainer: loraR " + getOrDefault(loraR())
                    + " is not supported for question answering yet (LoRA trains classification and language"
                    + " modelling): set loraR 0");
        }
        for (Param<String> p : List.of(questionCol, contextCol, answerCol)) {
            requireType(schema, getOrDefault(p), p.name(), "string", t -> t instanceof StringType);
        }
        requireValidationAndTrainingArguments(schema);
        return schema;
    }

    /** A fitted model and what the fit did. */
    public record FitResult(QuestionAnsweringModel model, TextClassifier.FitSummary summary) {}

    @Override
    public QuestionAnsweringModel fit(Dataset<?> dataset) {
        return fitWithSummary(dataset).model();
    }

    /** {@link #fit} that also returns the {@link TextClassifier.FitSummary} (eval metrics: exact_match, f1). */
    public FitResult fitWithSummary(Dataset<?> dataset) {
        transformSchema(dataset.schema(), true);
        String ref = checkedModel();
        // The Trainer's QA rows: the question as the text, the context as the pair, the answer text as the label.
        Dataset<Row> rows = dataset.toDF()
                .select(
                        col(getOrDefault(questionCol)).as("text"),
                        col(getOrDefault(contextCol)).as("pair"),
                        col(getOrDefault(answerCol)).as("label"),
                        isEvalColumn());
        DistributedTraining.Spec base = spec(ref, Task.QUESTION_ANSWERING, LabelKind.NONE, List.of());
        DistributedTraining.Spec spec = base.withOptions(base.options()
                .withQuestionAnswering((Integer) getOrDefault(docStride), (Integer) getOrDefault(maxAnswerLen)));
        DistributedTraining.Summary s = train(rows, spec);
        QuestionAnsweringModel fitted =
                asFitted(new QuestionAnsweringModel(uid())).setModel(s.outputDir());
        return new FitResult(fitted, TextClassifier.summaryOf(s));
    }

    @Override
    public QuestionAnsweringTrainer copy(ParamMap extra) {
        return defaultCopy(extra);
    }
}
