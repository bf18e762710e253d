package io.sparkformers.spark;

import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import io.sparkformers.pipeline.Pipeline;
import io.sparkformers.pipeline.PipelineOptions;
import io.sparkformers.pipeline.ZeroShotClassificationPipeline;
import io.sparkformers.pipeline.ZeroShotClassificationPipeline.Result;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.StringArrayParam;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * HF {@code pipeline("zero-shot-classification")} as a Spark stage: text and {@code candidateLabels} → the labels
 * ranked best first ({@code outputCol}, {@code array<string>}) and their scores ({@code scoresCol},
 * {@code array<double>}). The method follows the checkpoint, as {@link ZeroShotClassificationPipeline} decides: NLI
 * for a sequence-classification checkpoint with an entailment label, embedding similarity for a sentence-embedding
 * one (the executor reads the checkpoint to choose). {@code hypothesisTemplate} and {@code multiLabel} are HF's
 * options. Reads raw text only (each row is paired with every hypothesis).
 */
public final class ZeroShotClassificationModel extends ModelStage<ZeroShotClassificationModel> {
    private static final long serialVersionUID = 1L;

    private final StringArrayParam candidateLabels;
    private final Param<String> hypothesisTemplate;
    private final BooleanParam multiLabel;
    private final Param<String> scoresCol;

    public ZeroShotClassificationModel(String uid) {
        super(uid, "labels");
        candidateLabels = new StringArrayParam(
                this, "candidateLabels", "the labels to choose from (at least one, " + "none blank)");
        hypothesisTemplate = new Param<>(
                this, "hypothesisTemplate", "the hypothesis each label is put into; {} marks " + "the label");
        multiLabel =
                new BooleanParam(this, "multiLabel", "score each label on its own (true) or softmax across labels");
        scoresCol = new Param<>(this, "scoresCol", "array<double> column for the scores, in the order of outputCol");
        setDefault(candidateLabels, new String[0]);
        setDefault(hypothesisTemplate, PipelineOptions.DEFAULT_HYPOTHESIS_TEMPLATE);
        setDefault(multiLabel, false);
        setDefault(scoresCol, "scores");
    }

    public ZeroShotClassificationModel() {
        this(Identifiable$.MODULE$.randomUID("zeroShot"));
    }

    public static MLReader<ZeroShotClassificationModel> read() {
        return StagePersistence.textReader(ZeroShotClassificationModel.class);
    }

    public static ZeroShotClassificationModel load(String path) {
        return read().load(path);
    }

    public StringArrayParam candidateLabels() {
        return candidateLabels;
    }

    public Param<String> hypothesisTemplate() {
        return hypothesisTemplate;
    }

    public BooleanParam multiLabel() {
        return multiLabel;
    }

    public Param<String> scoresCol() {
        return scoresCol;
    }

    public String[] getCandidateLabels() {
        return getOrDefault(candidateLabels);
    }

    public String getHypothesisTemplate() {
        return getOrDefault(hypothesisTemplate);
    }

    public boolean getMultiLabel() {
        return (Boolean) getOrDefault(multiLabel);
    }

    public String getScoresCol() {
        return getOrDefault(scoresCol);
    }

    public ZeroShotClassificationModel setCandidateLabels(String... v) {
        set(candidateLabels, v);
        return this;
    }

    public ZeroShotClassificationModel setHypothesisTemplate(String v) {
        set(hypothesisTemplate, v);
        return this;
    }

    public ZeroShotClassificationModel setMultiLabel(boolean v) {
        set(multiLabel, v);
        return this;
    }

    public ZeroShotClassificationModel setScoresCol(String v) {
        set(scoresCol, v);
        return this;
    }

    @Override
    protected Task task() {
        return Task.SEQUENCE_CLASSIFICATION;
    }

    @Override
    protected DataType outputDataType() {
        return DataTypes.createArrayType(DataTypes.StringType, false);
    }

    @Override
    protected StructField[] outputFields() {
        return new StructField[] {
            new StructField(getOutputCol(), outputDataType(), true, Metadata.empty()),
            new StructField(
                    getScoresCol(), DataTypes.createArrayType(DataTypes.DoubleType, false), true, Metadata.empty())
        };
    }

    @Override
    protected boolean readsTokens(StructType schema) {
        return false;
    }

    @Override
    protected void validateInput(StructType schema) {
        super.validateInput(schema);
        String[] labels = getCandidateLabels();
        if (labels.length == 0 || Arrays.stream(labels).anyMatch(l -> l == null || l.isBlank())) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " " + uid() + ": candidateLabels must hold "
                    + "at least one label and no blank one, got " + Arrays.toString(labels)
                    + "; call setCandidateLabels(\"sports\", \"politics\", …)");
        }
        if (!getHypothesisTemplate().contains("{}")) {
            throw new IllegalArgumentException("hypothesisTemplate '" + getHypothesisTemplate() + "' has no {} for the "
                    + "label; write it as e.g. \"This example is {}.\"");
        }
    }

    @Override
    protected RowScorer scorer() {
        return new Scorer(
                getMaxLength(),
                getBatchSize(),
                Arrays.asList(getCandidateLabels()),
                getHypothesisTemplate(),
                getMultiLabel());
    }

    private static final class Scorer extends PipelineScorer<Result> {
        private static final long serialVersionUID = 1L;
        private final List<String> labels;
        private final String template;
        private final boolean multiLabel;

        Scorer(int maxLength, int batchSize, List<String> labels, String template, boolean multiLabel) {
            super(maxLength, batchSize);
            this.labels = List.copyOf(labels);
            this.template = template;
            this.multiLabel = multiLabel;
        }

        /** Sentence-embedding checkpoints (a pooling config) use similarity; the rest NLI. */
        @Override
        protected Task task(String model, Task declared) throws IOException {
            return HfCheckpoint.open(ModelRefs.localFolder(model)).pooling().isPresent()
                    ? Task.SENTENCE_EMBEDDING
                    : Task.SEQUENCE_CLASSIFICATION;
        }

        @Override
        protected PipelineOptions.Builder taskOptions(PipelineOptions.Builder b) {
            return b.candidateLabels(labels).hypothesisTemplate(template).multiLabel(multiLabel);
        }

        @Override
        protected Pipeline<Result> create(HfModel model, PipelineOptions options) throws IOException {
            return new ZeroShotClassificationPipeline(model, options);
        }

        @Override
        protected Object toSpark(Result r) {
            return columns(
                    r.labels().toArray(new String[0]),
                    r.scores().stream().mapToDouble(Double::doubleValue).toArray());
        }
    }
}
