package io.sparkformers.jobs;

import io.sparkformers.hub.Json;
import io.sparkformers.jobs.config.PredictConfig;
import io.sparkformers.spark.BatchScoring;
import io.sparkformers.spark.Devices;
import io.sparkformers.spark.ModelStage;
import io.sparkformers.spark.TokenClassificationModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sparkformers predict}: batch (or, with {@code --streaming}, incremental) scoring of lake files and Delta
 * tables through Spark; parses flags (or a YAML job config, see
 * {@link PredictConfig}) and calls BatchScoring.
 */
@Command(
        name = "predict",
        mixinStandardHelpOptions = true,
        description =
                "Score a table (Parquet, CSV/TSV with header, JSON lines, Delta) with a model through Spark; every "
                        + "input column is kept and the task's output column appended. Options may come from a YAML job "
                        + "config (--config, keys are the option names in snake_case; see conf/predict-embeddings.yaml); "
                        + "flags on the command line win over the file.")
public final class PredictCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Spec
    CommandSpec spec;

    @Option(
            names = "--config",
            paramLabel = "FILE.yaml",
            description = "A YAML job config: task, model, input, output, … in snake_case.")
    Path config;

    @Option(
            names = "--set",
            paramLabel = "KEY=VALUE",
            description = "Override a config key: batch_size=64, mode=overwrite, partition_by=lang, …")
    List<String> sets = new ArrayList<>();

    @Option(
            names = "--task",
            description = "sentence-embeddings, feature-extraction, fill-mask, "
                    + "text-classification (sentiment-analysis), token-classification (ner), question-answering, "
                    + "zero-shot-classification, text-generation, summarization, translation (translation_xx_to_yy, "
                    + "e.g. translation_en_to_de) or text2text-generation.")
    String task;

    @Option(
            names = "--model",
            paramLabel = "REF",
            description = "A checkpoint folder, a Hadoop URI of one, or a built-in alias (see `models list`).")
    String model;

    @Mixin
    AdapterOption adapter;

    @Option(names = "--input", paramLabel = "PATH", description = "Input file or folder.")
    String input;

    @Option(names = "--output", paramLabel = "PATH", description = "Output folder.")
    String output;

    @Option(
            names = "--input-format",
            description = "parquet, csv, tsv, json or delta (default: from the extension, else parquet); delta needs "
                    + "Delta Lake on the classpath and in the session (the error says which --conf).")
    String inputFormat;

    @Option(
            names = "--output-format",
            description = "parquet, csv, tsv, json or delta (default: from the extension, else parquet); CSV/TSV "
                    + "hold arrays, structs and vectors as JSON strings.")
    String outputFormat;

    @Option(
            names = "--streaming",
            description = "Score incrementally with Structured Streaming: each run scores only the rows added to the "
                    + "input folder (its schema from the files there) or Delta table since the last, and appends them "
                    + "to the output; needs --checkpoint-location.")
    boolean streaming;

    @Option(
            names = "--checkpoint-location",
            paramLabel = "DIR",
            description = "--streaming: the query's checkpoint folder (what was scored); a restart goes on from it.")
    String checkpointLocation;

    @Option(
            names = "--trigger",
            defaultValue = BatchScoring.AVAILABLE_NOW,
            description = "--streaming: available-now (default: score what is there, then stop) or "
                    + "processing-time=<interval> such as processing-time=10s (a micro-batch every interval until "
                    + "stopped).")
    String trigger;

    @Option(
            names = "--partition-by",
            split = ",",
            paramLabel = "COL",
            description = "Partition the output by these columns (one folder per value: col=value/).")
    List<String> partitionBy;

    @Option(names = "--text-col", defaultValue = "text", description = "Text column (default ${DEFAULT-VALUE}).")
    String textCol;

    @Option(names = "--output-col", description = "Output column (default: the task's, e.g. embedding).")
    String outputCol;

    @Option(
            names = "--mode",
            defaultValue = "errorifexists",
            description = "errorifexists (default), overwrite or append.")
    String mode;

    @Option(
            names = "--max-length",
            defaultValue = "0",
            description =
                    "Tokens kept per text (default 0: the checkpoint's limit, 512 for BERT; sentence embeddings stop at the checkpoint's max_seq_length, 256 for all-MiniLM-L6-v2).")
    int maxLength;

    @Option(
            names = "--batch-size",
            description = "Rows per batch at most (default ${DEFAULT-VALUE}, the stages' "
                    + "batchSize): a Spark task streams a whole partition, so batches are large and --max-tokens-per-batch "
                    + "bounds their memory; pipeline's batches are one JVM's forward passes.")
    int batchSize = ModelStage.DEFAULT_BATCH_SIZE;

    @Option(
            names = "--max-tokens-per-batch",
            defaultValue = "16384",
            description = "Padded tokens per batch at most (default ${DEFAULT-VALUE}).")
    int maxTokensPerBatch;

    @Option(names = "--device", defaultValue = Devices.AUTO, description = "auto (default), cpu or gpu.")
    String device;

    @Option(
            names = "--dtype",
            defaultValue = "fp32",
            description = "Inference precision: fp32 (default), bf16 (BERT-family models: projections in BF16, "
                    + "embedding cosine >= 0.999 against fp32) or auto (bf16 where the CPU has AVX512-BF16/AMX or the "
                    + "GPU compute capability >= 8).")
    String dtype;

    @Option(
            names = "--handle-invalid",
            defaultValue = ModelStage.ERROR,
            description = "Null/empty/blank texts: error (default), skip or keep (reason in <output-col>_error).")
    String handleInvalid;

    @Option(
            names = "--output-type",
            defaultValue = "vector",
            description = "sentence-embeddings: vector (default) or array.")
    String outputType;

    @Mixin
    TopKOption topK;

    @Mixin
    GenerationOptions generation;

    @Option(names = "--text-pair-col", description = "text-classification: column of the second segment of text pairs.")
    String textPairCol;

    @Option(
            names = "--function-to-apply",
            description =
                    "text-classification: sigmoid, softmax or none (default: " + "HF's rule from the checkpoint).")
    String functionToApply;

    @Option(
            names = "--probabilities-col",
            description = "text-classification: also write every label's score to "
                    + "this column (--output-type vector or array).")
    String probabilitiesCol;

    @Option(
            names = "--aggregation-strategy",
            description = "token-classification: none, simple, first, average or "
                    + "max (default ${DEFAULT-VALUE}, the stage's).")
    String aggregationStrategy = TokenClassificationModel.DEFAULT_AGGREGATION_STRATEGY;

    @Option(
            names = "--ignore-labels",
            split = ",",
            paramLabel = "LABEL",
            description = "token-classification: labels left out (default O).")
    java.util.List<String> ignoreLabels;

    @Option(
            names = "--question-col",
            defaultValue = "question",
            description = "question-answering: question column (default ${DEFAULT-VALUE}).")
    String questionCol;

    @Option(
            names = "--context-col",
            defaultValue = "context",
            description = "question-answering: context column (default ${DEFAULT-VALUE}).")
    String contextCol;

    @Option(
            names = "--doc-stride",
            description = "question-answering: tokens shared by the windows of a long context "
                    + "(default: HF's min(window / 2, 128)).")
    Integer docStride;

    @Option(
            names = "--max-answer-len",
            defaultValue = "15",
            description = "question-answering: most tokens in an answer (default ${DEFAULT-VALUE}).")
    int maxAnswerLen;

    @Option(
            names = "--handle-impossible-answer",
            description = "question-answering: let \"no answer\" (empty, start = end = 0) win.")
    boolean handleImpossibleAnswer;

    @Option(
            names = "--candidate-labels",
            split = ",",
            paramLabel = "LABEL",
            description = "zero-shot-classification: the labels to choose from (required there).")
    java.util.List<String> candidateLabels;

    @Option(
            names = "--hypothesis-template",
            defaultValue = "This example is {}.",
            description = "zero-shot-classification: the hypothesis, {} is the label (default \"${DEFAULT-VALUE}\").")
    String hypothesisTemplate;

    @Option(names = "--multi-label", description = "zero-shot-classification: score each label on its own.")
    boolean multiLabel;

    @Override
    public Integer call() throws Exception {
        if (config != null || !sets.isEmpty()) PredictConfig.apply(spec, config, FinetuneCommand.parseSets(sets));
        model = adapter.baseOr(model);
        PredictConfig.requireSet(spec, config, "--task", "--model", "--input", "--output");
        var taskOptions = new BatchScoring.TaskOptions(
                textPairCol,
                functionToApply,
                probabilitiesCol,
                aggregationStrategy,
                ignoreLabels,
                questionCol,
                contextCol,
                docStride,
                maxAnswerLen,
                handleImpossibleAnswer,
                candidateLabels,
                hypothesisTemplate,
                multiLabel,
                GenerationOptions.appliesTo(task) ? generation.kwargs(topK.value()) : null);
        var options = new BatchScoring.Options(
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
                topK.value(),
                taskOptions,
                partitionBy,
                dtype,
                adapter.value());
        BatchScoring.stageFor(options); // an unknown task fails before Spark starts
        BatchScoring.Streaming stream =
                streaming ? new BatchScoring.Streaming(checkpointLocation, trigger) : null; // likewise its options
        try (SparkSessions.Owned s = SparkSessions.open("sparkformers predict " + task)) {
            BatchScoring.Result r = stream == null
                    ? BatchScoring.run(s.spark(), options)
                    : BatchScoring.runStream(s.spark(), options, stream);
            if (common.json) {
                System.out.println(Json.MAPPER
                        .createObjectNode()
                        .put("output", output)
                        .put("format", r.outputFormat())
                        .put("streaming", streaming)
                        .put("rows", r.rows())
                        .put("seconds", r.seconds())
                        .put("padding_efficiency", r.metrics().paddingEfficiency())
                        .toString());
            } else {
                System.out.printf(
                        "%s -> %s (%s%s): %d rows in %.1f s; %s%n",
                        input,
                        output,
                        r.outputFormat(),
                        streaming ? ", streaming" : "",
                        r.rows(),
                        r.seconds(),
                        r.metrics().summary());
            }
        }
        return 0;
    }
}
