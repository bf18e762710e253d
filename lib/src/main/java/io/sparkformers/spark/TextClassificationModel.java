package io.sparkformers.spark;

import ai.djl.ndarray.NDManager;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import io.sparkformers.pipeline.PipelineOptions;
import io.sparkformers.pipeline.TextClassificationPipeline;
import io.sparkformers.pipeline.TextClassificationPipeline.ClassificationFunction;
import io.sparkformers.pipeline.TextClassificationPipeline.LabelScore;
import io.sparkformers.spark.TokenBudgetBatcher.Batch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * HF {@code pipeline("text-classification")} as a Spark stage, on a sequence-classification checkpoint: text (with an
 * optional second segment in {@code inputPairCol}), or token columns, → the best label ({@code outputCol}, string) and
 * its score ({@code scoreCol}, double); optionally every label's score in class-id order ({@code probabilitiesCol}, ML
 * {@code Vector} or {@code array<float>}) and the {@code topK} best as {@code array<struct<label,score>>}
 * ({@code topKCol}, when topK > 1). Scores follow HF's {@code function_to_apply} rule (softmax for single-label,
 * sigmoid for multi-label checkpoints) unless {@code functionToApply} says otherwise; post-processing is
 * {@link TextClassificationPipeline#postprocess}.
 */
public final class TextClassificationModel extends ModelStage<TextClassificationModel> {
    private static final long serialVersionUID = 1L;

    public static final String VECTOR = "vector";
    public static final String ARRAY = "array";

    /** One entry of {@code topKCol}: HF's {@code {label, score}}. */
    public static final StructType LABEL_SCORE =
            new StructType().add("label", DataTypes.StringType, false).add("score", DataTypes.DoubleType, false);

    private final Param<String> scoreCol;
    private final Param<String> probabilitiesCol;
    private final Param<String> probabilitiesType;
    private final IntParam topK;
    private final Param<String> topKCol;
    private final Param<String> functionToApply;

    public TextClassificationModel(String uid) {
        super(uid, "label");
        scoreCol = new Param<>(this, "scoreCol", "double column for the best label's score");
        probabilitiesCol = new Param<>(
                this, "probabilitiesCol", "column for every label's score in class-id order " + "(\"\" for none)");
        probabilitiesType = new Param<>(
                this,
                "probabilitiesType",
                "probabilitiesCol as vector (ML Vector) or array " + "(array<float>)",
                ParamValidators.inArray(new String[] {VECTOR, ARRAY}));
        topK = new IntParam(
                this, "topK", "labels kept in topKCol, best first (> 0; 1: no topKCol)", ParamValidators.gt(0));
        topKCol = new Param<>(
                this,
                "topKCol",
                "array<struct<label,score>> column of the topK best labels (written " + "when topK > 1)");
        functionToApply = new Param<>(
                this,
                "functionToApply",
                "sigmoid, softmax or none; \"\" for HF's rule (none for "
                        + "regression, sigmoid for multi-label or one label, else softmax)",
                ParamValidators.inArray(new String[] {"", "sigmoid", "softmax", "none"}));
        setDefault(scoreCol, "score");
        setDefault(probabilitiesCol, "");
        setDefault(probabilitiesType, VECTOR);
        setDefault(topK, 1);
        setDefault(topKCol, "top_labels");
        setDefault(functionToApply, "");
    }

    public TextClassificationModel() {
        this(Identifiable$.MODULE$.randomUID("textCls"));
    }

    public static MLReader<TextClassificationModel> read() {
        return StagePersistence.textReader(TextClassificationModel.class);
    }

    public static TextClassificationModel load(String path) {
        return read().load(path);
    }

    public Param<String> scoreCol() {
        return scoreCol;
    }

    public Param<String> probabilitiesCol() {
        return probabilitiesCol;
    }

    public Param<String> probabilitiesType() {
        return probabilitiesType;
    }

    public IntParam topK() {
        return topK;
    }

    public Param<String> topKCol() {
        return topKCol;
    }

    public Param<String> functionToApply() {
        return functionToApply;
    }

    public String getScoreCol() {
        return getOrDefault(scoreCol);
    }

    public String getProbabilitiesCol() {
        return getOrDefault(probabilitiesCol);
    }

    public String getProbabilitiesType() {
        return getOrDefault(probabilitiesType);
    }

    public int getTopK() {
        return (Integer) getOrDefault(topK);
    }

    public String getTopKCol() {
        return getOrDefault(topKCol);
    }

    public String getFunctionToApply() {
        return getOrDefault(functionToApply);
    }

    public TextClassificationModel setScoreCol(String v) {
        set(scoreCol, v);
        return this;
    }

    public TextClassificationModel setProbabilitiesCol(String v) {
        set(probabilitiesCol, v);
        return this;
    }

    public TextClassificationModel setProbabilitiesType(String v) {
        set(probabilitiesType, v);
        return this;
    }

    public TextClassificationModel setTopK(int v) {
        set(topK, v);
        return this;
    }

    public TextClassificationModel setTopKCol(String v) {
        set(topKCol, v);
        return this;
    }

    public TextClassificationModel setFunctionToApply(String v) {
        set(functionToApply, v);
        return this;
    }

    @Override
    protected Task task() {
        return Task.SEQUENCE_CLASSIFICATION;
    }

    @Override
    protected DataType outputDataType() {
        return DataTypes.StringType;
    }

    @Override
    protected StructField[] outputFields() {
        List<StructField> f = new ArrayList<>();
        f.add(new StructField(getOutputCol(), DataTypes.StringType, true, Metadata.empty()));
        f.add(new StructField(getScoreCol(), DataTypes.DoubleType, true, Metadata.empty()));
        if (!getProbabilitiesCol().isEmpty()) {
            f.add(new StructField(
                    getProbabilitiesCol(),
                    getProbabilitiesType().equals(VECTOR)
                            ? SQLDataTypes.VectorType()
                            : DataTypes.createArrayType(DataTypes.FloatType, false),
                    true,
                    Metadata.empty()));
        }
        if (getTopK() > 1) {
            f.add(new StructField(getTopKCol(), DataTypes.createArrayType(LABEL_SCORE, false), true, Metadata.empty()));
        }
        return f.toArray(new StructField[0]);
    }

    @Override
    protected RowScorer scorer() {
        return new Scorer(
                getFunctionToApply(),
                !getProbabilitiesCol().isEmpty(),
                getProbabilitiesType().equals(VECTOR),
                getTopK());
    }

    private static final class Scorer extends RowScorer {
        private static final long serialVersionUID = 1L;
        private final String function;
        private final boolean probabilities;
        private final boolean vector;
        private final int topK;

        Scorer(String function, boolean probabilities, boolean vector, int topK) {
            this.function = function;
            this.probabilities = probabilities;
            this.vector = vector;
            this.topK = topK;
        }

        @Override
        protected Object[] score(HfModel model, TextTokenizer tokenizer, Batch batch, NDManager scope) {
            PipelineScorer.requireTrainedHead(model);
            List<String> labels = TextClassificationPipeline.labels(model.checkpoint());
            ClassificationFunction fn = function.isEmpty()
                    ? TextClassificationPipeline.defaultFunction(
                            model.checkpoint().config().path("problem_type").asText(null), labels.size())
                    : ClassificationFunction.parse(function);
            float[] logits = model.predict(inputs(scope, batch)).head().toFloatArray(); // (B, C)
            int c = labels.size();
            Object[] out = new Object[batch.size()];
            for (int r = 0; r < out.length; r++) {
                List<LabelScore> ranked = TextClassificationPipeline.postprocess(
                        Arrays.copyOfRange(logits, r * c, (r + 1) * c), labels, fn, PipelineOptions.ALL);
                List<Object> values = new ArrayList<>(4);
                values.add(ranked.get(0).label());
                values.add(ranked.get(0).score());
                if (probabilities) {
                    double[] byId = new double[c];
                    for (LabelScore l : ranked) byId[labels.indexOf(l.label())] = l.score();
                    if (vector) {
                        values.add(Vectors.dense(byId));
                    } else {
                        float[] f = new float[c];
                        for (int i = 0; i < c; i++) f[i] = (float) byId[i];
                        values.add(f);
                    }
                }
                if (topK > 1) {
                    Object[] top = new Object[Math.min(topK, c)];
                    for (int k = 0; k < top.length; k++)
                        top[k] = RowFactory.create(
                                ranked.get(k).label(), ranked.get(k).score());
                    values.add(top);
                }
                out[r] = columns(values.toArray());
            }
            return out;
        }
    }
}
