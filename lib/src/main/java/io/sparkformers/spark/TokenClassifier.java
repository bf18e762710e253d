package io.sparkformers.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.exists;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.size;

import io.sparkformers.nn.Task;
import io.sparkformers.train.DataCollatorWithPadding.LabelKind;
import io.sparkformers.train.LabelSpace;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructType;

/**
 * HF's {@code Trainer} for token classification (NER, IOB2 tags) as a Spark ML Estimator: fine-tunes a pretrained
 * checkpoint on rows of words ({@code tokensCol}, {@code array<string>}) and one tag per word ({@code tagsCol},
 * {@code array<string>}) across {@code numWorkers} Spark tasks ({@link DistributedTraining}), and returns a
 * {@link TokenClassificationModel} over the fine-tuned checkpoint (HF layout, in {@code outputDir}; its config's
 * {@code id2label} is the tag set) that reads raw text from {@code inputCol}. Words are tokenized as HF's
 * {@code is_split_into_words=True}; labels go to each word's first sub-token, -100 elsewhere (HF's
 * {@code tokenize_and_align_labels}). The training Params are {@link TextClassifier}'s (HF TrainingArguments).
 * Rows are checked before training: null or empty words, words holding whitespace, and word/tag count mismatches fail
 * the fit naming the row.
 */
public final class TokenClassifier extends TextFineTuningEstimator<TokenClassifier, TokenClassificationModel> {
    private static final long serialVersionUID = 1L;
    private static final String LABELS_DOC = "tags in id order (the config's id2label); empty: the sorted "
            + "distinct tags of the training rows (one extra job)";

    private final Param<String> tokensCol;
    private final Param<String> tagsCol;
    private final Param<String> inputCol;
    private final Param<String> outputCol;

    public TokenClassifier(String uid) {
        super(uid, LABELS_DOC);
        tokensCol = new Param<>(this, "tokensCol", "array<string> column of words (no whitespace inside a word)");
        tagsCol = new Param<>(this, "tagsCol", "array<string> column of tags, one IOB2 tag per word (B-PER, I-PER, O)");
        inputCol = new Param<>(this, "inputCol", "the fitted model's input: string column of raw text");
        outputCol = new Param<>(
                this,
                "outputCol",
                "the fitted model's output column: " + "array<struct<entity_group,score,start,end,word>>");

        setDefault(tokensCol, "tokens");
        setDefault(tagsCol, "tags");
        setDefault(inputCol, "text");
        setDefault(outputCol, "entities");
    }

    public TokenClassifier() {
        this(Identifiable$.MODULE$.randomUID("tokenClassifier"));
    }

    public static MLReader<TokenClassifier> read() {
        return new DefaultParamsReader<>();
    }

    public static TokenClassifier load(String path) {
        return read().load(path);
    }

    // ------------------------------------------------------------------------------------------ Params

    public Param<String> tokensCol() {
        return tokensCol;
    }

    public Param<String> tagsCol() {
        return tagsCol;
    }

    public Param<String> inputCol() {
        return inputCol;
    }

    public Param<String> outputCol() {
        return outputCol;
    }

    public TokenClassifier setTokensCol(String v) {
        set(tokensCol, v);
        return this;
    }

    public TokenClassifier setTagsCol(String v) {
        set(tagsCol, v);
        return this;
    }

    public TokenClassifier setInputCol(String v) {
        set(inputCol, v);
        return this;
    }

    public TokenClassifier setOutputCol(String v) {
        set(outputCol, v);
        return this;
    }

    // ------------------------------------------------------------------------------------------ fit

    @Override
    public StructType transformSchema(StructType schema) {
        requireModel();
        requireType(schema, getOrDefault(tokensCol), "tokensCol", "array<string>", TokenClassifier::stringArray);
        requireType(schema, getOrDefault(tagsCol), "tagsCol", "array<string>", TokenClassifier::stringArray);
        requireValidationAndTrainingArguments(schema);
        return schema;
    }

    private static boolean stringArray(DataType t) {
        return t instanceof ArrayType a && a.elementType() instanceof StringType;
    }

    /** A fitted model and what the fit did. */
    public record FitResult(TokenClassificationModel model, TextClassifier.FitSummary summary) {}

    @Override
    public TokenClassificationModel fit(Dataset<?> dataset) {
        return fitWithSummary(dataset).model();
    }

    /** {@link #fit} that also returns the {@link TextClassifier.FitSummary}. */
    public FitResult fitWithSummary(Dataset<?> dataset) {
        transformSchema(dataset.schema(), true);
        String ref = checkedModel();
        String words = getOrDefault(tokensCol);
        String tags = getOrDefault(tagsCol);
        Dataset<Row> df = dataset.toDF();
        checkRows(df, words, tags);
        // The Trainer's TOKEN rows: whitespace-separated words as the text, one tag per word as the label.
        Dataset<Row> rows = df.select(
                concat_ws(" ", col(words)).as("text"),
                lit(null).cast(DataTypes.StringType).as("pair"),
                concat_ws(" ", col(tags)).as("label"),
                isEvalColumn());
        List<String> names = tagNames(df, tags);
        DistributedTraining.Spec spec = spec(ref, Task.TOKEN_CLASSIFICATION, LabelKind.TOKEN, names);
        DistributedTraining.Summary s = train(rows, spec);
        TokenClassificationModel fitted =
                asFitted(new TokenClassificationModel(uid())).setModel(s.outputDir());
        return new FitResult(fitted, TextClassifier.summaryOf(s));
    }

    /**
     * One job before training: the first row (in dataset order) with null words or tags, an empty or whitespace-holding
     * word (words are re-split on whitespace by the featurizer), or a word/tag count mismatch fails the fit, named by
     * its contents.
     */
    private static void checkRows(Dataset<Row> df, String words, String tags) {
        Column bad = col(words)
                .isNull()
                .or(col(tags).isNull())
                .or(size(col(words)).notEqual(size(col(tags))))
                .or(size(col(words)).equalTo(0))
                .or(exists(col(words), w -> w.isNull().or(w.rlike("^$|\\s"))))
                .or(exists(col(tags), t -> t.isNull().or(t.rlike("^$|\\s"))));
        List<Row> found = df.filter(bad).select(col(words), col(tags)).limit(1).collectAsList();
        if (found.isEmpty()) return;
        Row r = found.get(0);
        List<Object> w = r.isNullAt(0) ? null : r.getList(0);
        List<Object> t = r.isNullAt(1) ? null : r.getList(1);
        String what;
        if (w == null || t == null) what = (w == null ? "tokensCol" : "tagsCol") + " is null";
        else if (w.size() != t.size()) what = w.size() + " words but " + t.size() + " tags: one tag per word needed";
        else if (w.isEmpty()) what = "no words";
        else what = "a null, empty or whitespace-holding word or tag";
        throw new IllegalArgumentException("TokenClassifier: bad row (words " + w + ", tags " + t + "): " + what);
    }

    private List<String> tagNames(Dataset<Row> df, String tags) {
        String[] given = getOrDefault(labels());
        if (given.length > 0) return List.of(given);
        Dataset<Row> train = getOrDefault(validationIndicatorCol()).isEmpty()
                ? df
                : df.filter(not(col(getOrDefault(validationIndicatorCol())).equalTo(true)));
        List<String> seen = new ArrayList<>();
        for (Row r : train.select(explode(col(tags))).distinct().collectAsList()) seen.add(r.getString(0));
        return LabelSpace.fromLabels(seen).names();
    }

    @Override
    public TokenClassifier copy(ParamMap extra) {
        return defaultCopy(extra);
    }
}
