package io.sparkformers.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.lit;

import io.sparkformers.nn.Task;
import io.sparkformers.train.DataCollatorWithPadding.LabelKind;
import io.sparkformers.train.LabelSpace;
import io.sparkformers.train.TrainingData;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.BooleanType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructType;

/**
 * HF's {@code Trainer} for sequence classification as a Spark ML Estimator: fine-tunes a pretrained checkpoint on the
 * labelled rows of a DataFrame across {@code numWorkers} Spark tasks (data parallel, {@link DistributedTraining}) and
 * returns a {@link TextClassificationModel} holding the fine-tuned checkpoint (HF layout, in {@code outputDir}).
 * Single-label ({@code labelCol} of any type, read as text), multi-label ({@code array<string>} or comma-separated
 * names) and regression (numeric) follow HF's {@code problem_type}. The training Params mirror HF
 * {@code TrainingArguments} (camelCased names, HF defaults); rows flagged by {@code validationIndicatorCol} are the
 * evaluation set. Fitting never changes the estimator; everything a run needs is copied into plain values first.
 */
public final class TextClassifier extends TextFineTuningEstimator<TextClassifier, TextClassificationModel>
        implements TextInputParams {
    private static final long serialVersionUID = 1L;
    private static final String LABELS_DOC =
            "class names in id order; empty: the sorted distinct labels of " + "the training rows (one extra job)";

    public static final String SINGLE_LABEL = "single_label_classification";
    public static final String MULTI_LABEL = "multi_label_classification";
    public static final String REGRESSION = "regression";

    private final Param<String> inputCol;
    private final Param<String> inputPairCol;
    private final Param<String> inputIdsCol;
    private final Param<String> attentionMaskCol;
    private final Param<String> tokenTypeIdsCol;

    private final Param<String> labelCol;
    private final Param<String> predictionCol;
    private final Param<String> problemType;

    public TextClassifier(String uid) {
        super(uid, LABELS_DOC);
        inputCol = new Param<>(this, "inputCol", "string column holding the text");
        inputPairCol = new Param<>(this, "inputPairCol", "string column of the second segment (\"\" for none)");
        inputIdsCol = new Param<>(
                this,
                "inputIdsCol",
                "token-id column the fitted model reads when present (training " + "tokenizes inputCol)");
        attentionMaskCol = new Param<>(this, "attentionMaskCol", "attention-mask column, for the fitted model");
        tokenTypeIdsCol = new Param<>(this, "tokenTypeIdsCol", "token-type column, for the fitted model");
        labelCol = new Param<>(
                this,
                "labelCol",
                "label column: any type for single-label (read as text), array<string> "
                        + "or comma-separated names for multi-label, numeric for regression");
        predictionCol = new Param<>(this, "predictionCol", "the fitted model's output column: the predicted label");
        problemType = new Param<>(
                this,
                "problemType",
                "HF problem_type: " + SINGLE_LABEL + ", " + MULTI_LABEL + " or " + REGRESSION,
                ParamValidators.inArray(new String[] {SINGLE_LABEL, MULTI_LABEL, REGRESSION}));

        setDefault(inputCol, "text");
        setDefault(inputPairCol, "");
        setDefault(inputIdsCol, "input_ids");
        setDefault(attentionMaskCol, "attention_mask");
        setDefault(tokenTypeIdsCol, "token_type_ids");
        setDefault(labelCol, "label");
        setDefault(predictionCol, "prediction");
        setDefault(problemType, SINGLE_LABEL);
    }

    public TextClassifier() {
        this(Identifiable$.MODULE$.randomUID("textClassifier"));
    }

    public static MLReader<TextClassifier> read() {
        return new DefaultParamsReader<>();
    }

    public static TextClassifier load(String path) {
        return read().load(path);
    }

    // ------------------------------------------------------------------------------------------ Params

    @Override
    public Param<String> inputCol() {
        return inputCol;
    }

    @Override
    public Param<String> inputPairCol() {
        return inputPairCol;
    }

    @Override
    public Param<String> inputIdsCol() {
        return inputIdsCol;
    }

    @Override
    public Param<String> attentionMaskCol() {
        return attentionMaskCol;
    }

    @Override
    public Param<String> tokenTypeIdsCol() {
        return tokenTypeIdsCol;
    }

    public Param<String> labelCol() {
        return labelCol;
    }

    public Param<String> predictionCol() {
        return predictionCol;
    }

    public Param<String> problemType() {
        return problemType;
    }

    public TextClassifier setInputCol(String v) {
        set(inputCol, v);
        return this;
    }

    public TextClassifier setInputPairCol(String v) {
        set(inputPairCol, v);
        return this;
    }

    public TextClassifier setLabelCol(String v) {
        set(labelCol, v);
        return this;
    }

    public TextClassifier setPredictionCol(String v) {
        set(predictionCol, v);
        return this;
    }

    public TextClassifier setProblemType(String v) {
        set(problemType, v);
        return this;
    }

    // ------------------------------------------------------------------------------------------ fit

    @Override
    public StructType transformSchema(StructType schema) {
        requireModel();
        requireType(schema, getInputCol(), "inputCol", "string", t -> t instanceof StringType);
        if (!getInputPairCol().isEmpty()) {
            requireType(schema, getInputPairCol(), "inputPairCol", "string", t -> t instanceof StringType);
        }
        String label = getOrDefault(labelCol);
        switch (getOrDefault(problemType)) {
            case REGRESSION -> requireType(schema, label, "labelCol", "numeric", t -> t instanceof NumericType);
            case MULTI_LABEL ->
                requireType(
                        schema,
                        label,
                        "labelCol",
                        "array<string> or string",
                        t -> t instanceof StringType
                                || (t instanceof ArrayType a && a.elementType() instanceof StringType));
            default ->
                requireType(
                        schema,
                        label,
                        "labelCol",
                        "string, numeric or boolean",
                        t -> t instanceof StringType || t instanceof NumericType || t instanceof BooleanType);
        }
        requireValidationAndTrainingArguments(schema);
        return schema;
    }

    /** A fitted model and what the fit did. */
    public record FitResult(TextClassificationModel model, FitSummary summary) {}

    /**
     * What a distributed fit did: attempts, the checkpoints retries resumed from, the final train and eval metrics,
     * per-rank timings, and a fingerprint of the fit's job secret (fresh per fit).
     */
    public record FitSummary(
            String outputDir,
            int attempts,
            List<String> resumedFrom,
            String secretFingerprint,
            Map<String, Object> trainMetrics,
            Map<String, Double> evalMetrics,
            List<Map<String, Object>> workers)
            implements java.io.Serializable {}

    @Override
    public TextClassificationModel fit(Dataset<?> dataset) {
        return fitWithSummary(dataset).model();
    }

    /** {@link #fit} that also returns the {@link FitSummary}. */
    public FitResult fitWithSummary(Dataset<?> dataset) {
        transformSchema(dataset.schema(), true);
        String ref = checkedModel();
        String problem = getOrDefault(problemType);
        LabelKind kind = switch (problem) {
            case MULTI_LABEL -> LabelKind.MULTI_LABEL;
            case REGRESSION -> LabelKind.REGRESSION;
            default -> LabelKind.SINGLE_LABEL;
        };
        Dataset<Row> rows = dataset.toDF()
                .select(
                        col(getInputCol()).as("text"),
                        getInputPairCol().isEmpty()
                                ? lit(null).cast(DataTypes.StringType).as("pair")
                                : col(getInputPairCol()).as("pair"),
                        labelAsText(dataset.schema(), kind).as("label"),
                        isEvalColumn());
        List<String> names = kind == LabelKind.REGRESSION ? List.of() : labelNames(rows, kind);
        DistributedTraining.Spec spec = spec(ref, Task.SEQUENCE_CLASSIFICATION, kind, names);
        DistributedTraining.Summary s = train(rows, spec);
        TextClassificationModel fitted = asFitted(new TextClassificationModel(uid()))
                .setModel(s.outputDir())
                .setOutputCol(getOrDefault(predictionCol));
        return new FitResult(fitted, summaryOf(s));
    }

    static FitSummary summaryOf(DistributedTraining.Summary s) {
        List<Map<String, Object>> workers = new ArrayList<>();
        for (DistributedTraining.WorkerResult w : s.workers()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("rank", w.rank());
            m.put("host", w.host());
            m.put("pid", w.pid());
            m.put("seconds", w.seconds());
            m.put("ring_encrypted", w.ringEncrypted());
            m.putAll(w.trainMetrics());
            workers.add(m);
        }
        return new FitSummary(
                s.outputDir(),
                s.attempts(),
                s.resumedFrom(),
                s.secretFingerprint(),
                s.trainMetrics(),
                s.evalMetrics(),
                workers);
    }

    private Column labelAsText(StructType schema, LabelKind kind) {
        String label = getOrDefault(labelCol);
        DataType t = schema.apply(label).dataType();
        if (kind == LabelKind.MULTI_LABEL && t instanceof ArrayType) return concat_ws(",", col(label));
        if (kind == LabelKind.REGRESSION)
            return col(label).cast(DataTypes.DoubleType).cast(DataTypes.StringType);
        return col(label).cast(DataTypes.StringType);
    }

    private List<String> labelNames(Dataset<Row> rows, LabelKind kind) {
        String[] given = getOrDefault(labels());
        if (given.length > 0) {
            return kind == LabelKind.SINGLE_LABEL
                    ? LabelSpace.forSingleLabel(List.of(given)).names()
                    : List.of(given);
        }
        if (kind == LabelKind.SINGLE_LABEL) {
            Map<String, Long> counts = new LinkedHashMap<>();
            for (Row r : rows.filter("NOT isEval AND label IS NOT NULL")
                    .groupBy("label")
                    .count()
                    .collectAsList()) {
                counts.put(r.getString(0), r.getLong(1));
            }
            return singleLabelClasses(counts, getOrDefault(labelCol));
        }
        List<String> seen = new ArrayList<>();
        for (Row r : rows.filter("NOT isEval AND label IS NOT NULL")
                .select("label")
                .distinct()
                .collectAsList()) {
            if (kind == LabelKind.MULTI_LABEL) seen.addAll(TrainingData.splitMulti(r.getString(0)));
            else seen.add(r.getString(0));
        }
        return LabelSpace.fromLabels(seen).names();
    }

    @Override
    public TextClassifier copy(ParamMap extra) {
        return defaultCopy(extra);
    }
}
