package io.sparkformers.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.sparkformers.nn.Task;
import io.sparkformers.train.DataCollatorWithPadding.LabelKind;
import java.util.List;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructType;

/**
 * What {@link MaskedLanguageModelTrainer} and {@link CausalLanguageModelTrainer} share (HF {@code run_mlm.py} and
 * {@code run_clm.py} as Spark ML Estimators): the text column, HF's {@code group_texts}, the checks, and the one fit
 * path through {@link DistributedTraining} ({@code numWorkers} data-parallel replicas). The training Params are
 * {@link TextClassifier}'s (HF TrainingArguments).
 *
 * <p><b>Examples and replicas.</b> Line by line (the default), each non-null text row is one example, truncated to
 * {@code maxLength} tokens; rows are spread over the replicas as for every other task, so {@code numWorkers} replicas
 * with per-device batch b reach the weights of one replica with batch {@code numWorkers × b} on the same data order.
 * {@code groupTexts} (concatenate the texts, cut blocks of {@code maxLength} tokens): each replica packs its own rows
 * and the replicas share the blocks, so one remainder per replica is dropped (HF's one packing over all rows drops
 * one in all).
 *
 * @param <S> the concrete estimator
 * @param <M> the fitted stage over the saved checkpoint
 */
public abstract class LanguageModelingEstimator<S extends LanguageModelingEstimator<S, M>, M extends Model<M>>
        extends TextFineTuningEstimator<S, M> {
    private static final long serialVersionUID = 1L;
    private static final String LABELS_DOC = "not used by language modelling (the labels are the text's own tokens)";

    private final Param<String> inputCol;
    private final BooleanParam groupTexts;

    LanguageModelingEstimator(String uid) {
        super(uid, LABELS_DOC);
        inputCol = new Param<>(this, "inputCol", "string column of the training texts (null rows are skipped)");
        groupTexts = new BooleanParam(
                this,
                "groupTexts",
                "HF group_texts: concatenate every text and cut blocks of maxLength tokens, the remainder "
                        + "dropped (each replica packs its own rows: one remainder per replica); false trains "
                        + "line by line, one truncated example per row");
        setDefault(inputCol, "text");
        setDefault(groupTexts, false);
    }

    public Param<String> inputCol() {
        return inputCol;
    }

    public BooleanParam groupTexts() {
        return groupTexts;
    }

    public S setInputCol(String v) {
        set(inputCol, v);
        return self();
    }

    public S setGroupTexts(boolean v) {
        set(groupTexts, v);
        return self();
    }

    /** The task trained: {@link Task#MASKED_LM} or {@link Task#CAUSAL_LM}. */
    abstract Task task();

    /** The task options of this estimator's objective, from {@code base} (LoRA and QA options kept). */
    abstract DistributedTraining.TaskOptions options(DistributedTraining.TaskOptions base, boolean group);

    /** The stage that scores with the fine-tuned checkpoint in {@code outputDir}, reading {@code inputCol}. */
    abstract M fitted(String outputDir, String inputCol);

    @Override
    public StructType transformSchema(StructType schema) {
        requireModel();
        requireType(schema, getOrDefault(inputCol), "inputCol", "string", t -> t instanceof StringType);
        if ((Integer) getOrDefault(loraR()) > 0) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": loraR " + getOrDefault(loraR())
                    + " is not supported for language modelling yet (LoRA trains text classification): set loraR 0");
        }
        requireValidationAndTrainingArguments(schema);
        return schema;
    }

    /** A fitted stage and what the fit did. */
    public record FitResult<M>(M model, TextClassifier.FitSummary summary) {}

    @Override
    public M fit(Dataset<?> dataset) {
        return fitWithSummary(dataset).model();
    }

    /** {@link #fit} that also returns the {@link TextClassifier.FitSummary} (eval metrics: loss, perplexity). */
    public FitResult<M> fitWithSummary(Dataset<?> dataset) {
        transformSchema(dataset.schema(), true);
        String ref = checkedModel();
        String text = getOrDefault(inputCol);
        Dataset<Row> rows = dataset.toDF()
                .filter(col(text).isNotNull())
                .select(
                        col(text).as("text"),
                        lit(null).cast("string").as("pair"),
                        lit(null).cast("string").as("label"),
                        isEvalColumn());
        DistributedTraining.Spec base = spec(ref, task(), LabelKind.NONE, List.of());
        DistributedTraining.Spec spec = base.withOptions(options(base.options(), (Boolean) getOrDefault(groupTexts)));
        DistributedTraining.Summary s = train(rows, spec);
        M stage = fitted(s.outputDir(), text);
        stage.setParent(this);
        return new FitResult<>(stage, TextClassifier.summaryOf(s));
    }
}
