package io.sparkformers.jobs;

import io.sparkformers.hub.Json;
import io.sparkformers.jobs.config.FinetuneConfig;
import io.sparkformers.spark.TextClassifier;
import io.sparkformers.train.TextDataset;
import io.sparkformers.train.Trainer;
import io.sparkformers.train.TrainingTask;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code sparkformers finetune --config conf/finetune-spam.yaml [--set key=value …] [--workers N]}: reads the config
 * (every key checked first), reads the rows ({@link DataSources}), and runs the library {@link Trainer} in the driver;
 * with {@code --workers N > 1} it fits {@link TextClassifier} instead — N data-parallel replicas on the executors of the
 * master the launcher points at ({@code --master local[2]}, {@code local-cluster[2,1,2048]}, {@code spark://…}) —
 * writing the same output_dir layout.
 */
@Command(
        name = "finetune",
        mixinStandardHelpOptions = true,
        description = "Fine-tune a checkpoint on labelled rows (HF Trainer semantics); see conf/finetune-spam.yaml.")
public final class FinetuneCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Option(names = "--config", required = true, paramLabel = "FILE.yaml", description = "The job config.")
    Path config;

    @Option(
            names = "--set",
            paramLabel = "KEY=VALUE",
            description = "Override a config key: training.learning_rate=1e-4, data.limit=200, mode=partial, …")
    List<String> sets = new ArrayList<>();

    @Option(
            names = "--workers",
            defaultValue = "1",
            paramLabel = "N",
            description = "Data-parallel replicas on the Spark executors (one barrier task each; the cluster needs N "
                    + "free task slots). 1 (default) trains in the driver.")
    int workers = 1;

    @Option(
            names = "--max-attempts",
            defaultValue = "3",
            paramLabel = "N",
            description = "With --workers > 1: barrier jobs tried; each retry resumes from the latest checkpoint.")
    int maxAttempts = 3;

    @Override
    public Integer call() throws Exception {
        Map<String, String> overrides = parseSets(sets);
        FinetuneConfig c = FinetuneConfig.load(config, overrides);
        Path model = PipelineCommand.resolveModel(c.model());
        // seq2seq: the target is text_pair_col; language modelling: the labels are the text's own tokens
        boolean labels = c.task() != io.sparkformers.nn.Task.SEQ2SEQ_LM
                && c.task() != io.sparkformers.nn.Task.MASKED_LM
                && c.task() != io.sparkformers.nn.Task.CAUSAL_LM;
        TextDataset train =
                DataSources.read(c.data().train(), false, c.data(), c.data().limit(), labels);
        TextDataset eval = c.data().eval() == null
                ? null
                : DataSources.read(c.data().eval(), true, c.data(), c.data().evalLimit(), labels);
        if (workers > 1) return distributed(c, model, train, eval);
        if (workers < 1) throw new IllegalArgumentException("--workers must be >= 1 but was " + workers);
        TrainingTask objective = objectiveTask(c, model);
        Trainer.Builder builder = objective != null
                ? Trainer.builder(c.training(), objective)
                : c.lora() != null
                        ? Trainer.builder(
                                c.training(),
                                TrainingTask.textClassification(
                                        model,
                                        c.task(),
                                        c.labelKind(),
                                        c.labels(),
                                        c.data().maxLength(),
                                        c.lora()))
                        : Trainer.builder(c.training(), model)
                                .task(c.task())
                                .labelKind(c.labelKind())
                                .labels(c.labels())
                                .maxLength(c.data().maxLength());
        Trainer trainer = builder.mode(c.mode())
                .evalBeforeTraining(eval != null)
                .progress(true)
                .build();
        Trainer.TrainOutput out = trainer.train(train, eval);
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("output_dir", out.outputDir().toString());
        report.put("global_step", out.globalStep());
        report.put("train", out.trainMetrics());
        report.put("eval_before_training", out.initialEval());
        report.put("eval", out.evalMetrics());
        report.put("best_checkpoint", out.bestCheckpoint());
        if (common.json) {
            System.out.println(Json.line(report));
        } else {
            System.out.printf(
                    "model written to %s (%d steps, %.1f s)%n",
                    out.outputDir(),
                    out.globalStep(),
                    ((Number) out.trainMetrics().get("train_runtime")).doubleValue());
            printMetrics("before training", out.initialEval());
            printMetrics("after training", out.evalMetrics());
        }
        return 0;
    }

    /**
     * The TrainingTask of a masked-lm, causal-lm or question-answering config (data.max_length is the block size or
     * window), or null for the classification tasks, which the Trainer builder configures.
     */
    static TrainingTask objectiveTask(FinetuneConfig c, Path model) throws java.io.IOException {
        FinetuneConfig.Objective o = c.objective();
        int n = c.data().maxLength();
        checkLora(c);
        return switch (c.task()) {
            case MASKED_LM ->
                TrainingTask.maskedLanguageModeling(
                        model, n, o.groupTexts(), o.mlmProbability(), o.wholeWordMask(), c.lora());
            case CAUSAL_LM -> {
                if (o.chat()) yield TrainingTask.chatInstructionTuning(model, n, c.lora());
                if (c.lora() != null) {
                    yield TrainingTask.causalLanguageModeling(model, n, o.groupTexts(), o.instruction(), c.lora());
                }
                if (o.instruction()) yield TrainingTask.instructionTuning(model, n);
                if (o.fromScratch()) {
                    yield TrainingTask.causalLanguageModelingFromScratch(
                            Json.readObject(model.resolve("config.json")), model, n, o.groupTexts());
                }
                yield TrainingTask.causalLanguageModeling(model, n, o.groupTexts());
            }
            case QUESTION_ANSWERING -> TrainingTask.questionAnswering(model, n, o.docStride(), o.maxAnswerLength());
            case SEQ2SEQ_LM ->
                TrainingTask.seq2seqLanguageModeling(
                        model,
                        n,
                        o.maxTargetLength(),
                        o.sourcePrefix(),
                        o.predictWithGenerate(),
                        o.generationMaxLength(),
                        o.generationNumBeams());
            default -> null;
        };
    }

    /** A lora section only where an adapter trains (classification, masked-lm, causal-lm from a checkpoint). */
    static void checkLora(FinetuneConfig c) {
        if (c.lora() == null) return;
        io.sparkformers.nn.Task t = c.task();
        if (t == io.sparkformers.nn.Task.QUESTION_ANSWERING || t == io.sparkformers.nn.Task.SEQ2SEQ_LM) {
            throw new IllegalArgumentException("lora trains classification, masked-lm and causal-lm; task " + t
                    + " would train the model's weights: remove the lora section");
        }
        if (c.objective().fromScratch()) {
            throw new IllegalArgumentException(
                    "lora adapts a pretrained model: remove objective.from_scratch or the lora section");
        }
    }

    /** The same fit through the Estimator on the Spark executors. */
    private int distributed(FinetuneConfig c, Path model, TextDataset train, TextDataset eval) throws Exception {
        checkLora(c);
        io.sparkformers.nn.Task task = c.task();
        boolean lm = task == io.sparkformers.nn.Task.MASKED_LM || task == io.sparkformers.nn.Task.CAUSAL_LM;
        boolean seq2seq = task == io.sparkformers.nn.Task.SEQ2SEQ_LM;
        if (task != io.sparkformers.nn.Task.SEQUENCE_CLASSIFICATION
                && task != io.sparkformers.nn.Task.QUESTION_ANSWERING
                && !lm
                && !seq2seq) {
            throw new IllegalArgumentException("--workers > 1 trains text-classification, question-answering, "
                    + "masked-lm, causal-lm and the seq2seq tasks; task " + task + " trains in the driver: use "
                    + "--workers 1");
        }
        try (SparkSessions.Owned s = SparkSessions.open("sparkformers-finetune")) {
            var df = DistributedFinetune.frame(s.spark(), train, eval, workers);
            TextClassifier.FitSummary sum = lm
                    ? DistributedFinetune.languageModel(c, model, workers)
                            .setMaxAttempts(maxAttempts)
                            .fitWithSummary(df)
                            .summary()
                    : seq2seq
                            ? DistributedFinetune.seq2seq(c, model, workers)
                                    .setMaxAttempts(maxAttempts)
                                    .fitWithSummary(df)
                                    .summary()
                            : task == io.sparkformers.nn.Task.QUESTION_ANSWERING
                                    ? DistributedFinetune.questionAnswering(c, model, workers)
                                            .setMaxAttempts(maxAttempts)
                                            .fitWithSummary(df)
                                            .summary()
                                    : DistributedFinetune.classifier(c, model, workers)
                                            .setMaxAttempts(maxAttempts)
                                            .fitWithSummary(df)
                                            .summary();
            Map<String, Object> report = new LinkedHashMap<>();
            report.put("output_dir", sum.outputDir());
            report.put("workers", workers);
            report.put("attempts", sum.attempts());
            report.put("resumed_from", sum.resumedFrom());
            report.put("train", sum.trainMetrics());
            report.put("eval", sum.evalMetrics());
            report.put("ranks", sum.workers());
            if (common.json) {
                System.out.println(Json.line(report));
            } else {
                System.out.printf(
                        "model written to %s (%d workers, %s s, %d attempt(s)%s)%n",
                        sum.outputDir(),
                        workers,
                        sum.trainMetrics().get("train_runtime"),
                        sum.attempts(),
                        sum.resumedFrom().isEmpty() ? "" : ", resumed from " + sum.resumedFrom());
                printMetrics("after training", sum.evalMetrics());
            }
        }
        return 0;
    }

    static void printMetrics(String title, Map<String, Double> m) {
        if (m.isEmpty()) return;
        System.out.printf("%s: loss %.4f", title, m.get("eval_loss"));
        for (String k : List.of(
                "eval_accuracy",
                "eval_f1",
                "eval_f1_micro",
                "eval_overall_f1",
                "eval_mse",
                "eval_exact_match",
                "eval_perplexity",
                "eval_rouge1",
                "eval_rouge2",
                "eval_rougeL",
                "eval_rougeLsum",
                "eval_bleu",
                "eval_chrf")) {
            if (m.containsKey(k)) System.out.printf(", %s %.4f", k.substring(5), m.get(k));
        }
        System.out.println();
    }

    static Map<String, String> parseSets(List<String> sets) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String s : sets) {
            int eq = s.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("--set " + s + " is not key=value");
            out.put(s.substring(0, eq).trim(), s.substring(eq + 1).trim());
        }
        return out;
    }
}
