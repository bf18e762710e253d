package io.sparkformers.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.to_json;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.nn.ComputeDtype;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.DataFrameWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.DataStreamReader;
import org.apache.spark.sql.streaming.DataStreamWriter;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryException;
import org.apache.spark.sql.streaming.Trigger;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Batch scoring of lake files, the library side of {@code sparkformers predict}: read a table (Parquet, CSV/TSV with a
 * header, quotes doubled as RFC 4180 writes them; JSON lines), append a task's output column through its Sparkformers stage, keep every input column, write
 * the result. For CSV/TSV output, array, struct and vector columns are written as JSON strings. Errors name the file,
 * column or format and say which option fixes them.
 */
public final class BatchScoring {
    private BatchScoring() {}

    /** The tasks {@link #stageFor} knows. */
    public static final List<String> TASKS = List.of(
            "sentence-embeddings",
            "feature-extraction",
            "fill-mask",
            "text-classification",
            "sentiment-analysis",
            "token-classification",
            "ner",
            "question-answering",
            "zero-shot-classification",
            "text-generation",
            "summarization",
            "translation",
            "translation_xx_to_yy",
            "text2text-generation");

    /** {@code translation_<src>_to_<tgt>}: a {@link Translator} of that language pair. */
    private static final Pattern LANGUAGE_PAIR = Pattern.compile("translation_([A-Za-z-]+)_to_([A-Za-z-]+)");

    /** The formats an input may have: files, or a Delta table ({@link DeltaLake}). */
    public static final List<String> INPUT_FORMATS = List.of("parquet", "csv", "tsv", "json", "delta");

    public static final List<String> OUTPUT_FORMATS = List.of("parquet", "csv", "tsv", "json", "delta");

    /** The {@code --trigger} of a streaming run that scores what is there and stops. */
    public static final String AVAILABLE_NOW = "available-now";

    /**
     * How a streaming run ({@link #runStream}) goes.
     *
     * @param checkpointLocation the query's checkpoint folder: which files (or Delta versions) were scored; a restart
     *                           goes on from it, and the sink's own log keeps each row written once
     * @param trigger            {@value #AVAILABLE_NOW} (score every new row, then stop) or
     *                           {@code processing-time=<interval>} / {@code <interval>} (e.g. {@code 10s}: a
     *                           micro-batch per interval until the job is stopped)
     */
    public record Streaming(String checkpointLocation, String trigger) {
        public Streaming {
            if (checkpointLocation == null || checkpointLocation.isBlank()) {
                throw new IllegalArgumentException("a streaming predict needs --checkpoint-location DIR: the folder "
                        + "where the query records what it scored, so a restart neither loses nor repeats a row");
            }
            if (trigger == null) trigger = AVAILABLE_NOW;
            BatchScoring.trigger(trigger); // fails now on an unknown trigger
        }
    }

    /**
     * What to score and where to write it.
     *
     * @param task              one of {@link #TASKS}
     * @param model             a checkpoint folder, Hadoop URI or built-in alias
     * @param input             a file or folder (any Hadoop file system)
     * @param output            a folder to write (Spark's layout: part files)
     * @param inputFormat       null: from the input's extension, else parquet
     * @param outputFormat      null: from the output's extension, else parquet
     * @param textCol           the text column
     * @param outputCol         null: the stage's default
     * @param mode              errorifexists, overwrite or append
     * @param maxLength         tokens kept per text; 0 for the checkpoint's own limit (sentence embeddings: its
     *                          sentence-transformers max_seq_length)
     * @param batchSize         rows per batch at most
     * @param maxTokensPerBatch padded tokens per batch at most
     * @param device            auto, cpu or gpu
     * @param handleInvalid     error, skip or keep
     * @param outputType        sentence-embeddings: vector or array
     * @param topK              fill-mask: candidates per mask (null: 5); text-classification: labels in the
     *                          top_labels column (null: 1, no such column)
     * @param taskOptions       the options of the pipeline tasks
     * @param partitionBy       output columns to partition the written folders by (null or empty: none)
     * @param dtype             inference precision: bf16, fp32 or auto (null: fp32; see the stages' dtype Param)
     * @param adapter           a PEFT LoRA adapter merged into the model at load (the stages' adapterPath), or null
     */
    public record Options(
            String task,
            String model,
            String input,
            String output,
            String inputFormat,
            String outputFormat,
            String textCol,
            String outputCol,
            String mode,
            int maxLength,
            int batchSize,
            int maxTokensPerBatch,
            String device,
            String handleInvalid,
            String outputType,
            Integer topK,
            TaskOptions taskOptions,
            List<String> partitionBy,
            String dtype,
            String adapter) {
        public Options {
            if (taskOptions == null) taskOptions = TaskOptions.defaults();
            partitionBy = partitionBy == null ? List.of() : List.copyOf(partitionBy);
            dtype = ComputeDtype.parse(dtype == null ? "fp32" : dtype).id();
        }

        /** Defaults for everything but the four required values. */
        public static Options of(String task, String model, String input, String output) {
            return builder(task, model, input, output).build();
        }

        /** A builder holding the defaults for everything but the four required values. */
        public static Builder builder(String task, String model, String input, String output) {
            Builder b = new Builder();
            b.task = task;
            b.model = model;
            b.input = input;
            b.output = output;
            return b;
        }

        /** A builder starting from these options. */
        public Builder toBuilder() {
            return new Builder(this);
        }

        public Options withAdapter(String adapter) {
            return toBuilder().adapter(adapter).build();
        }

        public Options withDtype(String dtype) {
            return toBuilder().dtype(dtype).build();
        }

        public Options withPartitionBy(List<String> cols) {
            return toBuilder().partitionBy(cols).build();
        }

        public Options withTaskOptions(TaskOptions t) {
            return toBuilder().taskOptions(t).build();
        }

        public Options withTopK(Integer k) {
            return toBuilder().topK(k).build();
        }

        public Options withFormats(String in, String out) {
            return toBuilder().inputFormat(in).outputFormat(out).build();
        }

        public Options withMode(String m) {
            return toBuilder().mode(m).build();
        }

        public Options withTextCol(String col) {
            return toBuilder().textCol(col).build();
        }

        public Options withHandleInvalid(String h) {
            return toBuilder().handleInvalid(h).build();
        }

        /**
         * The components as mutable fields, each with its default (the one place of the defaults; see the record's
         * Javadoc for their meaning); {@link #build} validates as the record does.
         */
        public static final class Builder {
            private String task;
            private String model;
            private String input;
            private String output;
            private String inputFormat;
            private String outputFormat;
            private String textCol = "text";
            private String outputCol;
            private String mode = "errorifexists";
            private int maxLength = 512;
            private int batchSize = ModelStage.DEFAULT_BATCH_SIZE;
            private int maxTokensPerBatch = 16384;
            private String device = Devices.AUTO;
            private String handleInvalid = ModelStage.ERROR;
            private String outputType = SentenceEmbedder.VECTOR;
            private Integer topK;
            private TaskOptions taskOptions;
            private List<String> partitionBy;
            private String dtype;
            private String adapter;

            private Builder() {}

            private Builder(Options o) {
                task = o.task;
                model = o.model;
                input = o.input;
                output = o.output;
                inputFormat = o.inputFormat;
                outputFormat = o.outputFormat;
                textCol = o.textCol;
                outputCol = o.outputCol;
                mode = o.mode;
                maxLength = o.maxLength;
                batchSize = o.batchSize;
                maxTokensPerBatch = o.maxTokensPerBatch;
                device = o.device;
                handleInvalid = o.handleInvalid;
                outputType = o.outputType;
                topK = o.topK;
                taskOptions = o.taskOptions;
                partitionBy = o.partitionBy;
                dtype = o.dtype;
                adapter = o.adapter;
            }

            public Builder inputFormat(String v) {
                inputFormat = v;
                return this;
            }

            public Builder outputFormat(String v) {
                outputFormat = v;
                return this;
            }

            public Builder textCol(String v) {
                textCol = v;
                return this;
            }

            public Builder outputCol(String v) {
                outputCol = v;
                return this;
            }

            public Builder mode(String v) {
                mode = v;
                return this;
            }

            public Builder maxLength(int v) {
                maxLength = v;
                return this;
            }

            public Builder batchSize(int v) {
                batchSize = v;
                return this;
            }

            public Builder maxTokensPerBatch(int v) {
                maxTokensPerBatch = v;
                return this;
            }

            public Builder device(String v) {
                device = v;
                return this;
            }

            public Builder handleInvalid(String v) {
                handleInvalid = v;
                return this;
            }

            public Builder outputType(String v) {
                outputType = v;
                return this;
            }

            public Builder topK(Integer v) {
                topK = v;
                return this;
            }

            public Builder taskOptions(TaskOptions v) {
                taskOptions = v;
                return this;
            }

            public Builder partitionBy(List<String> v) {
                partitionBy = v;
                return this;
            }

            public Builder adapter(String v) {
                adapter = v;
                return this;
            }

            public Builder dtype(String v) {
                dtype = v;
                return this;
            }

            public Options build() {
                return new Options(
                        task,
                        model,
                        input,
                        output,
                        inputFormat,
                        outputFormat,
                        textCol,
                        outputCol,
                        mode,
                        maxLength,
                        batchSize,
                        maxTokensPerBatch,
                        device,
                        handleInvalid,
                        outputType,
                        topK,
                        taskOptions,
                        partitionBy,
                        dtype,
                        adapter);
            }
        }
    }

    /**
     * The options of the pipeline tasks (HF's keyword arguments), each read by its task only.
     *
     * @param textPairCol            text-classification: column of the second segment (null: none)
     * @param functionToApply        text-classification: sigmoid, softmax or none (null: HF's rule)
     * @param probabilitiesCol       text-classification: column for every label's score (null: none)
     * @param aggregationStrategy    token-classification: none, simple, first, average or max (null: none)
     * @param ignoreLabels           token-classification: labels left out (null: ["O"])
     * @param questionCol            question-answering: question column
     * @param contextCol             question-answering: context column
     * @param docStride              question-answering: tokens shared by windows (null: HF's rule)
     * @param maxAnswerLen           question-answering: most tokens in an answer
     * @param handleImpossibleAnswer question-answering: whether "no answer" competes
     * @param candidateLabels        zero-shot-classification: the labels (required there)
     * @param hypothesisTemplate     zero-shot-classification: the hypothesis, {} is the label
     * @param multiLabel             zero-shot-classification: labels scored independently
     * @param generateKwargs         generation tasks: HF generate() keyword arguments set on the stage (null: none,
     *                               the checkpoint's generation_config.json decides), see
     *                               {@link GenerationStage#setGenerateKwargs}
     */
    public record TaskOptions(
            String textPairCol,
            String functionToApply,
            String probabilitiesCol,
            String aggregationStrategy,
            List<String> ignoreLabels,
            String questionCol,
            String contextCol,
            Integer docStride,
            int maxAnswerLen,
            boolean handleImpossibleAnswer,
            List<String> candidateLabels,
            String hypothesisTemplate,
            boolean multiLabel,
            ObjectNode generateKwargs) {
        public static TaskOptions defaults() {
            return new TaskOptions(
                    null,
                    null,
                    null,
                    null,
                    null,
                    "question",
                    "context",
                    null,
                    15,
                    false,
                    null,
                    io.sparkformers.pipeline.PipelineOptions.DEFAULT_HYPOTHESIS_TEMPLATE,
                    false,
                    null);
        }
    }

    /**
     * What a run did.
     *
     * @param rows    rows written
     * @param seconds wall time of the scoring job
     * @param metrics the stage's counters (rows/s, tokens/s, padding efficiency)
     */
    public record Result(long rows, double seconds, String outputFormat, InferenceMetrics metrics) {}

    /** The stage that scores a task, with the options' Params set. */
    public static ModelStage<?> stageFor(Options o) {
        TaskOptions t = o.taskOptions();
        ModelStage<?> stage = switch (o.task().toLowerCase(Locale.ROOT)) {
            case "sentence-embeddings", "sentence-embedding" -> new SentenceEmbedder().setOutputType(o.outputType());
            case "feature-extraction" -> new FeatureExtractor();
            case "fill-mask" -> new FillMasker().setTopK(o.topK() == null ? 5 : o.topK());
            case "text-classification", "sentiment-analysis" -> {
                TextClassificationModel m = new TextClassificationModel()
                        .setTopK(o.topK() == null ? 1 : o.topK())
                        .setFunctionToApply(
                                t.functionToApply() == null
                                        ? ""
                                        : t.functionToApply().toLowerCase(Locale.ROOT));
                if (t.probabilitiesCol() != null) {
                    m.setProbabilitiesCol(t.probabilitiesCol()).setProbabilitiesType(o.outputType());
                }
                if (t.textPairCol() != null) m.setInputPairCol(t.textPairCol());
                yield m;
            }
            case "token-classification", "ner" -> {
                TokenClassificationModel m = new TokenClassificationModel();
                if (t.aggregationStrategy() != null)
                    m.setAggregationStrategy(t.aggregationStrategy().toLowerCase(Locale.ROOT));
                if (t.ignoreLabels() != null) m.setIgnoreLabels(t.ignoreLabels().toArray(new String[0]));
                yield m;
            }
            case "question-answering" -> {
                QuestionAnsweringModel m = new QuestionAnsweringModel()
                        .setQuestionCol(t.questionCol())
                        .setContextCol(t.contextCol())
                        .setMaxAnswerLen(t.maxAnswerLen())
                        .setHandleImpossibleAnswer(t.handleImpossibleAnswer());
                if (t.docStride() != null) m.setDocStride(t.docStride());
                yield m;
            }
            case "zero-shot-classification" -> {
                if (t.candidateLabels() == null || t.candidateLabels().isEmpty()) {
                    throw new IllegalArgumentException("zero-shot-classification needs candidate labels: pass "
                            + "--candidate-labels sports,politics,…");
                }
                yield new ZeroShotClassificationModel()
                        .setCandidateLabels(t.candidateLabels().toArray(new String[0]))
                        .setHypothesisTemplate(t.hypothesisTemplate())
                        .setMultiLabel(t.multiLabel());
            }
            case "text-generation" -> new TextGenerator().setGenerateKwargs(t.generateKwargs());
            case "summarization" -> new Summarizer().setGenerateKwargs(t.generateKwargs());
            case "text2text-generation" -> new Text2TextGenerator().setGenerateKwargs(t.generateKwargs());
            case "translation" -> new Translator().setGenerateKwargs(t.generateKwargs());
            default -> {
                Matcher pair = LANGUAGE_PAIR.matcher(o.task());
                if (!pair.matches()) {
                    throw new IllegalArgumentException(
                            "unknown task '" + o.task() + "' (supported: " + String.join(", ", TASKS) + ")");
                }
                yield new Translator()
                        .setSrcLang(pair.group(1))
                        .setTgtLang(pair.group(2))
                        .setGenerateKwargs(t.generateKwargs());
            }
        };
        stage.setModel(o.model())
                .setInputCol(o.textCol())
                .setBatchSize(o.batchSize())
                .setMaxTokensPerBatch(o.maxTokensPerBatch())
                .setDevice(o.device())
                .setDtype(o.dtype())
                .setHandleInvalid(o.handleInvalid());
        if (o.maxLength() > 0) stage.setMaxLength(o.maxLength()); // 0: the stage's default (embeddings: max_seq_length)
        if (o.outputCol() != null) stage.setOutputCol(o.outputCol());
        if (o.adapter() != null) stage.setAdapterPath(o.adapter());
        return stage;
    }

    /** Reads, scores, writes; the Spark job carries the stage's name as its description. */
    public static Result run(SparkSession spark, Options o) throws IOException {
        ModelStage<?> stage = stageFor(o);
        SaveMode mode = saveMode(o.mode());
        String inFormat = format(o.inputFormat(), o.input(), INPUT_FORMATS, "--input-format");
        String outFormat = format(o.outputFormat(), o.output(), OUTPUT_FORMATS, "--output-format");
        Path in = new Path(o.input());
        FileSystem inFs = in.getFileSystem(spark.sparkContext().hadoopConfiguration());
        if (!inFs.exists(in)) throw new IOException("input '" + o.input() + "' does not exist");
        Path out = new Path(o.output());
        FileSystem outFs = out.getFileSystem(spark.sparkContext().hadoopConfiguration());
        if (inFormat.equals("delta")) DeltaLake.require(spark, "--input-format delta");
        if (outFormat.equals("delta")) {
            DeltaLake.require(spark, "--output-format delta");
            // no _SUCCESS to check: Delta's log commits a write whole or not at all
            if (mode == SaveMode.ErrorIfExists && outFs.exists(out)) {
                throw new IOException("output '" + o.output() + "' already exists; pass --mode overwrite to replace "
                        + "it or --mode append to add to it");
            }
        } else {
            OutputStore.checkScoringOutput(outFs, out, o.output(), mode);
        }
        Dataset<Row> df = reader(spark, inFormat).load(o.input());
        if (stage instanceof QuestionAnsweringModel qa) {
            for (String[] c :
                    new String[][] {{qa.getQuestionCol(), "--question-col"}, {qa.getContextCol(), "--context-col"}}) {
                if (!Arrays.asList(df.columns()).contains(c[0])) {
                    throw new IllegalArgumentException("input '" + o.input() + "' has no column '" + c[0]
                            + "' (columns: " + String.join(", ", df.columns()) + "); choose it with " + c[1]);
                }
            }
        } else if (!Arrays.asList(df.columns()).contains(o.textCol())) {
            throw new IllegalArgumentException("input '" + o.input() + "' has no column '" + o.textCol()
                    + "' (columns: " + String.join(", ", df.columns()) + "); choose the text column with --text-col");
        }
        // every task slot scores (a multi-line CSV is one partition); messages still name the input's rows
        Dataset<Row> scored = scoreChecked(stage, TaskSlots.spread(df, TaskSlots.of(spark)), o);
        long t0 = System.nanoTime();
        double seconds;
        try (ScoringProgress progress = ScoringProgress.start(spark.sparkContext(), "predict")) {
            writer(scored, o, outFormat).mode(mode).save(o.output()); // rows/s and ETA on stderr as partitions finish
            seconds = (System.nanoTime() - t0) / 1e9;
            progress.awaitReported(2000);
        }
        return result(stage, o, outFormat, seconds);
    }

    /**
     * Incremental scoring of a folder of files (their schema taken from the files already there) or a Delta table:
     * a Structured Streaming query from the input through the task's stage into the output folder or Delta table,
     * recording its progress in {@link Streaming#checkpointLocation}. Each run scores only the rows added since the
     * last; a run stopped midway is taken up from the checkpoint without a lost or repeated row. The output is
     * appended to ({@code --mode overwrite} is refused).
     */
    public static Result runStream(SparkSession spark, Options o, Streaming streaming) throws IOException {
        ModelStage<?> stage = stageFor(o);
        if (saveMode(o.mode()) == SaveMode.Overwrite) {
            throw new IllegalArgumentException("--mode overwrite does not apply to a streaming predict: the query "
                    + "appends each new row once; delete the output and the checkpoint folder to start over");
        }
        String inFormat = format(o.inputFormat(), o.input(), INPUT_FORMATS, "--input-format");
        String outFormat = format(o.outputFormat(), o.output(), OUTPUT_FORMATS, "--output-format");
        Path in = new Path(o.input());
        if (!in.getFileSystem(spark.sparkContext().hadoopConfiguration()).exists(in)) {
            throw new IOException("input '" + o.input() + "' does not exist");
        }
        if (inFormat.equals("delta")) DeltaLake.require(spark, "--input-format delta");
        if (outFormat.equals("delta")) DeltaLake.require(spark, "--output-format delta");
        DataStreamReader reader = spark.readStream().format(inFormat.equals("tsv") ? "csv" : inFormat);
        if (!inFormat.equals("delta")) {
            // a file stream needs its schema up front: the one of the files already there
            reader = reader.options(readOptions(inFormat))
                    .schema(reader(spark, inFormat).load(o.input()).schema());
        }
        Dataset<Row> scored = scoreChecked(stage, reader.load(o.input()), o);
        if (outFormat.equals("csv") || outFormat.equals("tsv")) scored = flatForCsv(scored);
        DataStreamWriter<Row> writer = scored.writeStream()
                .format(outFormat.equals("tsv") ? "csv" : outFormat)
                .options(writeOptions(outFormat))
                .option("checkpointLocation", streaming.checkpointLocation())
                .trigger(trigger(streaming.trigger()))
                .queryName("sparkformers predict " + o.task());
        if (!o.partitionBy().isEmpty())
            writer = writer.partitionBy(o.partitionBy().toArray(new String[0]));
        long t0 = System.nanoTime();
        double seconds;
        try (ScoringProgress progress = ScoringProgress.start(spark.sparkContext(), "predict")) {
            StreamingQuery query = writer.start(o.output());
            try {
                query.awaitTermination();
            } catch (StreamingQueryException e) {
                throw new IllegalStateException(
                        "streaming predict " + o.input() + " -> " + o.output() + " failed: " + e.getMessage(), e);
            }
            seconds = (System.nanoTime() - t0) / 1e9;
            progress.awaitReported(2000);
        }
        return result(stage, o, outFormat, seconds);
    }

    /** An interval as {@code 500ms}, {@code 10s}, {@code 5m}, {@code 1h}. */
    private static final Pattern COMPACT_INTERVAL = Pattern.compile("(\\d+)\\s*(ms|s|m|min|h)");

    /**
     * {@code available-now}, or {@code processing-time=<interval>} / a bare interval: {@code 10s}, {@code 500ms},
     * {@code 5m}, {@code 1h}, or Spark's {@code 10 seconds}.
     */
    static Trigger trigger(String given) {
        String t = given.trim().toLowerCase(Locale.ROOT);
        if (t.equals(AVAILABLE_NOW)) return Trigger.AvailableNow();
        String interval = t.startsWith("processing-time=") ? t.substring("processing-time=".length()) : t;
        Matcher compact = COMPACT_INTERVAL.matcher(interval);
        if (compact.matches()) {
            long n = Long.parseLong(compact.group(1));
            TimeUnit unit = switch (compact.group(2)) {
                case "ms" -> TimeUnit.MILLISECONDS;
                case "s" -> TimeUnit.SECONDS;
                case "m", "min" -> TimeUnit.MINUTES;
                default -> TimeUnit.HOURS;
            };
            return Trigger.ProcessingTime(unit.toMillis(n));
        }
        try {
            return Trigger.ProcessingTime(interval); // Spark's own interval: "10 seconds", "1 minute"
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown --trigger '" + given + "': " + AVAILABLE_NOW
                    + " (score what is there, then stop) or processing-time=<interval> such as processing-time=10s "
                    + "(a micro-batch every interval until stopped)");
        }
    }

    /** The stage's output over {@code df} after the column checks that name the option to fix. */
    private static Dataset<Row> scoreChecked(ModelStage<?> stage, Dataset<Row> df, Options o) {
        Dataset<Row> scored = TaskSlots.withoutRowId(stage.transform(df));
        for (String c : o.partitionBy()) {
            if (!Arrays.asList(scored.columns()).contains(c)) {
                throw new IllegalArgumentException("--partition-by column '" + c + "' is not in the output (columns: "
                        + String.join(", ", scored.columns()) + "); choose input columns such as "
                        + scored.columns()[0]);
            }
        }
        return scored;
    }

    /** The batch writer of the scored rows in the output format (CSV/TSV: nested columns as JSON). */
    private static DataFrameWriter<Row> writer(Dataset<Row> scored, Options o, String outFormat) {
        if (outFormat.equals("csv") || outFormat.equals("tsv")) scored = flatForCsv(scored);
        DataFrameWriter<Row> writer = scored.write()
                .format(outFormat.equals("tsv") ? "csv" : outFormat)
                .options(writeOptions(outFormat));
        if (!o.partitionBy().isEmpty())
            writer = writer.partitionBy(o.partitionBy().toArray(new String[0]));
        return writer;
    }

    private static Map<String, String> writeOptions(String format) {
        return switch (format) {
            case "csv" -> Map.of("header", "true", "escape", "\"", "sep", ",");
            case "tsv" -> Map.of("header", "true", "escape", "\"", "sep", "\t");
            default -> Map.of();
        };
    }

    private static Result result(ModelStage<?> stage, Options o, String outFormat, double seconds) {
        InferenceMetrics metrics = stage.lastMetrics();
        metrics.log();
        return new Result(
                metrics.rows() - (o.handleInvalid().equals(ModelStage.SKIP) ? metrics.invalidRows() : 0),
                seconds,
                outFormat,
                metrics);
    }

    private static DataFrameReader reader(SparkSession spark, String format) {
        return spark.read().format(format.equals("tsv") ? "csv" : format).options(readOptions(format));
    }

    private static Map<String, String> readOptions(String format) {
        return switch (format) {
            case "csv" -> Map.of("header", "true", "multiLine", "true", "escape", "\"");
            case "tsv" -> Map.of("header", "true", "sep", "\t", "escape", "\"");
            default -> Map.of();
        };
    }

    /** Array, struct, map and vector columns as JSON strings (CSV holds only scalars). */
    static Dataset<Row> flatForCsv(Dataset<Row> df) {
        List<Column> cols = new ArrayList<>();
        for (StructField f : df.schema().fields()) {
            Column c = col("`" + f.name() + "`");
            if (f.dataType() instanceof VectorUDT) {
                cols.add(to_json(org.apache.spark.ml.functions.vector_to_array(c, "float64"))
                        .as(f.name()));
            } else if (f.dataType() instanceof ArrayType
                    || f.dataType() instanceof StructType
                    || f.dataType() instanceof MapType) {
                cols.add(to_json(c).as(f.name()));
            } else {
                cols.add(c);
            }
        }
        return df.select(cols.toArray(new Column[0]));
    }

    private static SaveMode saveMode(String mode) {
        return switch (mode.toLowerCase(Locale.ROOT)) {
            case "errorifexists", "error" -> SaveMode.ErrorIfExists;
            case "overwrite" -> SaveMode.Overwrite;
            case "append" -> SaveMode.Append;
            default ->
                throw new IllegalArgumentException("unknown --mode '" + mode + "' (errorifexists, overwrite, append)");
        };
    }

    /** The given format, else the path's extension when it is a known one, else parquet. */
    static String format(String given, String path, List<String> known, String option) {
        if (given != null) {
            String f = given.toLowerCase(Locale.ROOT);
            if (!known.contains(f)) {
                throw new IllegalArgumentException("unknown format '" + given + "' for " + option + " (supported: "
                        + String.join(", ", known) + ")");
            }
            return f;
        }
        String name = new Path(path).getName().toLowerCase(Locale.ROOT);
        int dot = name.lastIndexOf('.');
        String ext = dot < 0 ? "" : name.substring(dot + 1);
        if (ext.equals("jsonl") || ext.equals("ndjson")) return "json";
        return known.contains(ext) ? ext : "parquet";
    }
}
