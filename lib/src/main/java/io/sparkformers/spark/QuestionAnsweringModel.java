package io.sparkformers.spark;

import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import io.sparkformers.pipeline.Pipeline;
import io.sparkformers.pipeline.PipelineOptions;
import io.sparkformers.pipeline.QuestionAnsweringPipeline;
import io.sparkformers.pipeline.QuestionAnsweringPipeline.Answer;
import java.io.IOException;
import java.util.List;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * HF {@code pipeline("question-answering")} as a Spark stage, on a question-answering checkpoint: a question
 * ({@code questionCol}) and a context ({@code contextCol}) → the best answer as {@code struct<score,start,end,answer>}
 * (start/end: Java string indices into the context). Long contexts are windowed by {@code docStride} as HF does;
 * {@code maxAnswerLen} and {@code handleImpossibleAnswer} are HF's options. Span selection is
 * {@link QuestionAnsweringPipeline}'s, run per batch on the executor's cached model. {@code maxLength} caps the
 * window length ({@code max_seq_len} = min(maxLength, 384)).
 */
public final class QuestionAnsweringModel extends ModelStage<QuestionAnsweringModel> {
    private static final long serialVersionUID = 1L;

    /** HF's {@code {score, start, end, answer}}. */
    public static final StructType ANSWER = new StructType()
            .add("score", DataTypes.DoubleType, false)
            .add("start", DataTypes.IntegerType, false)
            .add("end", DataTypes.IntegerType, false)
            .add("answer", DataTypes.StringType, false);

    private final Param<String> questionCol;
    private final Param<String> contextCol;
    private final IntParam docStride;
    private final IntParam maxAnswerLen;
    private final IntParam maxQuestionLen;
    private final BooleanParam handleImpossibleAnswer;

    public QuestionAnsweringModel(String uid) {
        super(uid, "answer");
        questionCol = new Param<>(this, "questionCol", "string column holding the question");
        contextCol = new Param<>(this, "contextCol", "string column holding the context the answer is taken from");
        docStride = new IntParam(
                this,
                "docStride",
                "tokens shared by consecutive windows of a long context (>= 0, "
                        + "at most the window length); unset: HF's min(window / 2, 128)",
                ParamValidators.gtEq(0));
        maxAnswerLen = new IntParam(this, "maxAnswerLen", "most tokens in an answer (> 0)", ParamValidators.gt(0));
        maxQuestionLen = new IntParam(
                this,
                "maxQuestionLen",
                "most question tokens accepted (> 0); a longer question " + "makes the row invalid",
                ParamValidators.gt(0));
        handleImpossibleAnswer = new BooleanParam(
                this,
                "handleImpossibleAnswer",
                "whether \"no answer\" competes: " + "when it wins the answer is empty with start = end = 0");
        setDefault(questionCol, "question");
        setDefault(contextCol, "context");
        setDefault(maxAnswerLen, 15);
        setDefault(maxQuestionLen, 64);
        setDefault(handleImpossibleAnswer, false);
    }

    public QuestionAnsweringModel() {
        this(Identifiable$.MODULE$.randomUID("qa"));
    }

    public static MLReader<QuestionAnsweringModel> read() {
        return StagePersistence.textReader(QuestionAnsweringModel.class);
    }

    public static QuestionAnsweringModel load(String path) {
        return read().load(path);
    }

    public Param<String> questionCol() {
        return questionCol;
    }

    public Param<String> contextCol() {
        return contextCol;
    }

    public IntParam docStride() {
        return docStride;
    }

    public IntParam maxAnswerLen() {
        return maxAnswerLen;
    }

    public IntParam maxQuestionLen() {
        return maxQuestionLen;
    }

    public BooleanParam handleImpossibleAnswer() {
        return handleImpossibleAnswer;
    }

    public String getQuestionCol() {
        return getOrDefault(questionCol);
    }

    public String getContextCol() {
        return getOrDefault(contextCol);
    }
    /** The stride, or null for HF's rule. */
    public Integer getDocStride() {
        return isDefined(docStride) ? (Integer) getOrDefault(docStride) : null;
    }

    public int getMaxAnswerLen() {
        return (Integer) getOrDefault(maxAnswerLen);
    }

    public int getMaxQuestionLen() {
        return (Integer) getOrDefault(maxQuestionLen);
    }

    public boolean getHandleImpossibleAnswer() {
        return (Boolean) getOrDefault(handleImpossibleAnswer);
    }

    public QuestionAnsweringModel setQuestionCol(String v) {
        set(questionCol, v);
        return this;
    }

    public QuestionAnsweringModel setContextCol(String v) {
        set(contextCol, v);
        return this;
    }

    public QuestionAnsweringModel setDocStride(int v) {
        set(docStride, v);
        return this;
    }

    public QuestionAnsweringModel setMaxAnswerLen(int v) {
        set(maxAnswerLen, v);
        return this;
    }

    public QuestionAnsweringModel setMaxQuestionLen(int v) {
        set(maxQuestionLen, v);
        return this;
    }

    public QuestionAnsweringModel setHandleImpossibleAnswer(boolean v) {
        set(handleImpossibleAnswer, v);
        return this;
    }

    @Override
    protected Task task() {
        return Task.QUESTION_ANSWERING;
    }

    @Override
    protected DataType outputDataType() {
        return ANSWER;
    }

    @Override
    protected void validateInput(StructType schema) {
        requireString(schema, getQuestionCol(), "questionCol");
        requireString(schema, getContextCol(), "contextCol");
        if (getQuestionCol().equals(getContextCol())) {
            throw new IllegalArgumentException("questionCol and contextCol are both '" + getQuestionCol()
                    + "'; set contextCol to the column holding the context");
        }
    }

    @Override
    protected InputReader inputReader(StructType schema) {
        return InputReader.questionAnswering(schema, getQuestionCol(), getContextCol(), getMaxLength());
    }

    @Override
    protected RowScorer scorer() {
        return new Scorer(
                getMaxLength(),
                getBatchSize(),
                getDocStride(),
                getMaxAnswerLen(),
                getMaxQuestionLen(),
                getHandleImpossibleAnswer());
    }

    private static final class Scorer extends PipelineScorer<List<Answer>> {
        private static final long serialVersionUID = 1L;
        private final Integer docStride;
        private final int maxAnswerLen;
        private final int maxQuestionLen;
        private final boolean impossible;

        Scorer(
                int maxLength,
                int batchSize,
                Integer docStride,
                int maxAnswerLen,
                int maxQuestionLen,
                boolean impossible) {
            super(maxLength, batchSize);
            this.docStride = docStride;
            this.maxAnswerLen = maxAnswerLen;
            this.maxQuestionLen = maxQuestionLen;
            this.impossible = impossible;
        }

        @Override
        protected PipelineOptions.Builder taskOptions(PipelineOptions.Builder b) {
            return b.docStride(docStride)
                    .maxAnswerLen(maxAnswerLen)
                    .maxQuestionLen(maxQuestionLen)
                    .handleImpossibleAnswer(impossible);
        }

        @Override
        protected Pipeline<List<Answer>> create(HfModel model, PipelineOptions options) throws IOException {
            return new QuestionAnsweringPipeline(model, options);
        }

        @Override
        protected Object toSpark(List<Answer> answers) {
            if (answers.isEmpty()) return null;
            Answer a = answers.get(0);
            return RowFactory.create(a.score(), a.start(), a.end(), a.answer());
        }
    }
}
