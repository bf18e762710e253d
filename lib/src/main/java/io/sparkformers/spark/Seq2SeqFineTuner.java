package io.sparkformers.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.sparkformers.nn.Task;
import io.sparkformers.train.DataCollatorWithPadding.LabelKind;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructType;

/**
 * HF's {@code run_summarization.py} / {@code run_translation.py} ({@code Seq2SeqTrainer}) as a Spark ML Estimator:
 * fine-tunes an encoder-decoder checkpoint (BART, T5, Marian) on (source, target) text rows across
 * {@code numWorkers} data-parallel Spark tasks ({@link DistributedTraining}, the one fit path of every training
 * Estimator) and returns the stage of its {@code task} over the fine-tuned checkpoint (HF layout, in
 * {@code outputDir}): a {@link Summarizer}, {@link Translator} or {@link Text2TextGenerator} reading
 * {@code sourceCol} and carrying {@code sourcePrefix}. Use the typed factories ({@link #summarization()}, {@link #translation()},
 * {@link #text2text()}): the type argument names the stage the task Param returns.
 *
 * <p>Examples as HF's script: {@code sourcePrefix} + source, truncated to {@code maxLength} tokens (HF
 * {@code max_source_length}); the target truncated to {@code maxTargetLength}; rows whose source or target is null
 * or empty are skipped (HF's {@code preprocess_function}). Batches as {@code DataCollatorForSeq2Seq}; the loss is the
 * token mean of each micro-batch, so {@code numWorkers} replicas with per-device batch b reach the weights of one
 * replica with batch b and {@code numWorkers} gradient-accumulation steps. Evaluation rows
 * ({@code validationIndicatorCol}) report {@code eval_loss}, and with {@code predictWithGenerate} the generated texts'
 * {@code eval_rouge1/2/L/Lsum}, {@code eval_bleu}, {@code eval_chrf} and {@code eval_gen_len}, merged exactly across replicas. The
 * training Params are {@link TextClassifier}'s (HF TrainingArguments).
 *
 * @param <M> the fitted stage: {@link Summarizer}, {@link Translator} or {@link Text2TextGenerator}, as {@code task}
 */
public final class Seq2SeqFineTuner<M extends EncoderDecoderStage<M>>
        extends TextFineTuningEstimator<Seq2SeqFineTuner<M>, M> {
    private static final long serialVersionUID = 1L;
    private static final String LABELS_DOC = "not used by seq2seq training (the labels are the target's tokens)";
    private static final String[] TASKS = {"summarization", "translation", "text2text-generation"};

    private final Param<String> sourceCol;
    private final Param<String> targetCol;
    private final Param<String> task;
    private final Param<String> sourcePrefix;
    private final IntParam maxTargetLength;
    private final BooleanParam predictWithGenerate;
    private final IntParam generationMaxLength;
    private final IntParam generationNumBeams;

    public Seq2SeqFineTuner(String uid) {
        super(uid, LABELS_DOC);
        sourceCol = new Param<>(this, "sourceCol", "string column of the source texts (HF text_column)");
        targetCol = new Param<>(this, "targetCol", "string column of the target texts (HF summary_column)");
        task = new Param<>(
                this,
                "task",
                "the fitted stage's pipeline task: summarization (Summarizer), translation (Translator) or "
                        + "text2text-generation (Text2TextGenerator)",
                ParamValidators.inArray(TASKS));
        sourcePrefix = new Param<>(
                this, "sourcePrefix", "text put before every source (HF source_prefix, e.g. \"summarize: \" for T5)");
        maxTargetLength = new IntParam(
                this,
                "maxTargetLength",
                "target tokens kept, special tokens included (> 0; HF max_target_length)",
                ParamValidators.gt(0));
        predictWithGenerate = new BooleanParam(
                this,
                "predictWithGenerate",
                "generate each evaluation source and report ROUGE-1/2/L/Lsum, BLEU and gen_len (HF "
                        + "predict_with_generate)");
        generationMaxLength = new IntParam(
                this,
                "generationMaxLength",
                "new tokens generated per evaluation source (> 0; HF generation_max_length)",
                ParamValidators.gt(0));
        generationNumBeams = new IntParam(
                this,
                "generationNumBeams",
                "beams when generating at evaluation (> 0, 1: greedy; HF generation_num_beams)",
                ParamValidators.gt(0));
        setDefault(sourceCol, "source");
        setDefault(targetCol, "target");
        setDefault(task, "text2text-generation");
        setDefault(sourcePrefix, "");
        setDefault(maxTargetLength, 128);
        setDefault(predictWithGenerate, false);
        setDefault(generationMaxLength, 128);
        setDefault(generationNumBeams, 1);
    }

    /** A text2text-generation fine-tuner; prefer the typed factories. */
    public Seq2SeqFineTuner() {
        this(Identifiable$.MODULE$.randomUID("s2sTuner"));
    }

    /** Fine-tunes for summarization; fits a {@link Summarizer}. */
    public static Seq2SeqFineTuner<Summarizer> summarization() {
        return new Seq2SeqFineTuner<Summarizer>().setTask("summarization");
    }

    /** Fine-tunes for translation; fits a {@link Translator}. */
    public static Seq2SeqFineTuner<Translator> translation() {
        return new Seq2SeqFineTuner<Translator>().setTask("translation");
    }

    /** Fine-tunes for text2text-generation; fits a {@link Text2TextGenerator}. */
    public static Seq2SeqFineTuner<Text2TextGenerator> text2text() {
        return new Seq2SeqFineTuner<Text2TextGenerator>().setTask("text2text-generation");
    }

    public static MLReader<Seq2SeqFineTuner<?>> read() {
        return new DefaultParamsReader<>();
    }

    public static Seq2SeqFineTuner<?> load(String path) {
        return read().load(path);
    }

    // ------------------------------------------------------------------------------------------ Params

    public Param<String> sourceCol() {
        return sourceCol;
    }

    public Param<String> targetCol() {
        return targetCol;
    }

    public Param<String> task() {
        return task;
    }

    public Param<String> sourcePrefix() {
        return sourcePrefix;
    }

    public IntParam maxTargetLength() {
        return maxTargetLength;
    }

    public BooleanParam predictWithGenerate() {
        return predictWithGenerate;
    }

    public IntParam generationMaxLength() {
        return generationMaxLength;
    }

    public IntParam generationNumBeams() {
        return generationNumBeams;
    }

    public Seq2SeqFineTuner<M> setSourceCol(String v) {
        set(sourceCol, v);
        return this;
    }

    public Seq2SeqFineTuner<M> setTargetCol(String v) {
        set(targetCol, v);
        return this;
    }

    public Seq2SeqFineTuner<M> setTask(String v) {
        set(task, v);
        return this;
    }

    public Seq2SeqFineTuner<M> setSourcePrefix(String v) {
        set(sourcePrefix, v);
        return this;
    }

    public Seq2SeqFineTuner<M> setMaxTargetLength(int v) {
        set(maxTargetLength, v);
        return this;
    }

    public Seq2SeqFineTuner<M> setPredictWithGenerate(boolean v) {
        set(predictWithGenerate, v);
        return this;
    }

    public Seq2SeqFineTuner<M> setGenerationMaxLength(int v) {
        set(generationMaxLength, v);
        return this;
    }

    public Seq2SeqFineTuner<M> setGenerationNumBeams(int v) {
        set(generationNumBeams, v);
        return this;
    }

    // ------------------------------------------------------------------------------------------ fit

    @Override
    public StructType transformSchema(StructType schema) {
        requireModel();
        for (Param<String> p : List.of(sourceCol, targetCol)) {
            requireType(schema, getOrDefault(p), p.name(), "string", t -> t instanceof StringType);
        }
        if ((Integer) getOrDefault(loraR()) > 0) {
            throw new IllegalArgumentException("Seq2SeqFineTuner: loraR " + getOrDefault(loraR())
                    + " is not supported for seq2seq training yet (LoRA trains text classification): set loraR 0");
        }
        if ("feature_extraction".equals(getOrDefault(mode()))) {
            throw new IllegalArgumentException("Seq2SeqFineTuner: mode feature_extraction trains no new head in "
                    + "seq2seq training: set mode fine_tune or partial");
        }
        requireValidationAndTrainingArguments(schema);
        return schema;
    }

    @Override
    public M fit(Dataset<?> dataset) {
        return fitWithSummary(dataset).model();
    }

    /** {@link #fit} that also returns the {@link TextClassifier.FitSummary} (eval metrics: loss, ROUGE, BLEU). */
    public LanguageModelingEstimator.FitResult<M> fitWithSummary(Dataset<?> dataset) {
        transformSchema(dataset.schema(), true);
        String ref = getModel();
        try {
            ModelRefs.check(ref, false);
        } catch (IOException e) {
            throw new UncheckedIOException("Seq2SeqFineTuner: cannot load model '" + ref + "': " + e.getMessage(), e);
        }
        Column source = col(getOrDefault(sourceCol));
        Column target = col(getOrDefault(targetCol));
        String validation = getOrDefault(validationIndicatorCol());
        // The Trainer's seq2seq rows: the source as the text, the target as the pair (HF skips empty ones).
        Dataset<Row> rows = dataset.toDF()
                .filter(source.isNotNull()
                        .and(target.isNotNull())
                        .and(source.notEqual(""))
                        .and(target.notEqual("")))
                .select(
                        source.as("text"),
                        target.as("pair"),
                        lit(null).cast("string").as("label"),
                        validation.isEmpty()
                                ? lit(false).as("isEval")
                                : col(validation).equalTo(true).as("isEval"));
        DistributedTraining.Spec base = spec(ref, Task.SEQ2SEQ_LM, LabelKind.NONE, List.of());
        DistributedTraining.Spec spec = base.withOptions(base.options()
                .withSeq2Seq(new DistributedTraining.Seq2SeqOptions(
                        (Integer) getOrDefault(maxTargetLength),
                        getOrDefault(sourcePrefix),
                        (Boolean) getOrDefault(predictWithGenerate),
                        (Integer) getOrDefault(generationMaxLength),
                        (Integer) getOrDefault(generationNumBeams))));
        DistributedTraining.Summary s;
        try {
            s = DistributedTraining.run(rows, spec);
        } catch (IOException e) {
            throw new UncheckedIOException("Seq2SeqFineTuner: " + e.getMessage(), e);
        }
        M stage = fitted(s.outputDir());
        stage.setParent(this);
        return new LanguageModelingEstimator.FitResult<>(stage, TextClassifier.summaryOf(s));
    }

    /** The task's stage over the checkpoint in {@code outputDir}, reading the source column. */
    @SuppressWarnings("unchecked")
    private M fitted(String outputDir) {
        EncoderDecoderStage<?> stage = switch (getOrDefault(task)) {
            case "summarization" -> new Summarizer(uid());
            case "translation" -> new Translator(uid());
            default -> new Text2TextGenerator(uid());
        };
        // the prefix training put before every source, in place of the checkpoint's task prefix when scoring
        return ((M) stage)
                .setModel(outputDir)
                .setInputCol(getOrDefault(sourceCol))
                .setSourcePrefix(getOrDefault(sourcePrefix));
    }

    @Override
    public Seq2SeqFineTuner<M> copy(ParamMap extra) {
        return defaultCopy(extra);
    }
}
