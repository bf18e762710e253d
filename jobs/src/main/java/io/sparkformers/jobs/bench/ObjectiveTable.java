package io.sparkformers.jobs.bench;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.sparkformers.convert.BuiltinModels;
import io.sparkformers.hub.Json;
import io.sparkformers.jobs.corpora.Gpt2Tokenizer;
import io.sparkformers.jobs.corpora.SpamAssassin;
import io.sparkformers.jobs.recipes.SpamLanguageModelRecipe;
import io.sparkformers.nn.lora.LoraModel;
import io.sparkformers.safetensors.SafetensorsCheckpoint;
import io.sparkformers.spark.CausalLanguageModelTrainer;
import io.sparkformers.spark.MaskedLanguageModelTrainer;
import io.sparkformers.spark.QuestionAnsweringTrainer;
import io.sparkformers.spark.TextClassifier;
import io.sparkformers.train.TextDataset;
import io.sparkformers.train.Trainer;
import io.sparkformers.train.TrainingArguments;
import io.sparkformers.train.TrainingTask;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The training table of docs/training.md: one short run per objective (masked LM, causal LM, instruction tuning,
 * question answering, and sequence classification as the LoRA reference) × full weights or LoRA × 1 or 2 workers, each
 * in its own JVM (so the peak resident set, {@code VmHWM}, is that run's), on SpamAssassin rows, global batch 8, the same
 * steps: trainable parameters (elements of what the run saves: the model, or the LoRA adapter with its head), peak RSS,
 * training samples/s, final training loss and the evaluation loss/perplexity (or exact match/F1).
 *
 * <p>Causal LM and instruction tuning train the small GPT-2 of {@code lm-train} (GPT-2 tokenizer, 4 × 128, blocks of
 * 64); masked LM, QA and classification all-MiniLM-L6-v2 (128 tokens). Instruction pairs: "Continue this email: " + its
 * first 8 words → the rest. QA: "How does this email begin?" over the email, its first 3 words as the answer. Rows the
 * library refuses (LoRA for the language-model objectives, instruction pairs on 2 workers) are printed as refused with
 * the library's message.
 *
 * <pre>
 * java -cp … io.sparkformers.jobs.bench.ObjectiveTable all OUT_DIR [STEPS]      # every row, one child JVM each
 * java -cp … io.sparkformers.jobs.bench.ObjectiveTable one OUT_DIR STEPS OBJECTIVE full|lora WORKERS
 * </pre>
 */
public final class ObjectiveTable {
    static final List<String> OBJECTIVES =
            List.of("masked-lm", "causal-lm", "instruction", "question-answering", "text-classification");
    static final int GLOBAL_BATCH = 8;
    static final int TRAIN_ROWS = 160;
    static final int EVAL_ROWS = 32;

    private ObjectiveTable() {}

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[1]);
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        if (args[0].equals("one")) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("objective", args[3]);
            r.put("mode", args[4]);
            r.put("workers", Integer.parseInt(args[5]));
            try {
                r.putAll(one(out, steps, args[3], args[4].equals("lora"), Integer.parseInt(args[5])));
            } catch (IllegalArgumentException e) {
                r.put("refused", e.getMessage());
            }
            r.put("peak_rss_mib", vmHwmKb() / 1024);
            System.out.println("ROW "
                    + Json.MAPPER
                            .writer()
                            .without(SerializationFeature.INDENT_OUTPUT)
                            .writeValueAsString(r));
            return;
        }
        List<Map<String, Object>> rows = new ArrayList<>();
        for (String objective : OBJECTIVES) {
            for (String mode : List.of("full", "lora")) {
                for (int workers : List.of(1, 2)) rows.add(child(out, steps, objective, mode, workers));
            }
        }
        Json.write(out.resolve("objective-table.json"), Json.MAPPER.valueToTree(rows));
        System.out.println(markdown(rows));
    }

    /** Runs one row in a child JVM with this JVM's class path and options; returns its ROW line. */
    private static Map<String, Object> child(Path out, int steps, String objective, String mode, int workers)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.addAll(List.of(
                "-cp",
                System.getProperty("java.class.path"),
                ObjectiveTable.class.getName(),
                "one",
                out.toString(),
                Integer.toString(steps),
                objective,
                mode,
                Integer.toString(workers)));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Map<String, Object> row = null;
        Path log = out.resolve("log-" + objective + "-" + mode + "-" + workers + ".txt");
        Files.createDirectories(out);
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
                var w = Files.newBufferedWriter(log)) {
            for (String line; (line = r.readLine()) != null; ) {
                w.write(line);
                w.newLine();
                if (line.startsWith("ROW ")) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> m = Json.MAPPER.readValue(line.substring(4), Map.class);
                    row = m;
                }
            }
        }
        int rc = p.waitFor();
        if (row == null) {
            row = new LinkedHashMap<>(Map.of("objective", objective, "mode", mode, "workers", workers));
            row.put("failed", "exit " + rc + ", see " + log);
        }
        System.err.println(Json.MAPPER.writeValueAsString(row));
        return row;
    }

    /** One fit in this JVM. */
    /** The GPT-2 modules the LoRA rows adapt: attention (c_attn, c_proj) and MLP (c_fc, c_proj). */
    static final List<String> GPT2_LORA_TARGETS = List.of("c_attn", "c_proj", "c_fc");

    static Map<String, Object> one(Path out, int steps, String objective, boolean lora, int workers) throws Exception {
        Path dir = Files.createDirectories(out.resolve(objective + "-" + (lora ? "lora" : "full") + "-" + workers));
        List<SpamAssassin.Email> emails = SpamAssassin.load();
        Map<String, Object> r = new LinkedHashMap<>();
        long t0 = System.nanoTime();
        SparkSession spark = SparkSession.builder()
                .master("local[2]")
                .appName("objective-table")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "2")
                .getOrCreate();
        try {
            Map<String, Object> train;
            Map<String, Double> eval;
            Path saved;
            switch (objective) {
                case "causal-lm", "instruction" -> {
                    Path tok = Gpt2Tokenizer.ensure();
                    Path init = dir.resolve("init");
                    SpamLanguageModelRecipe.writeInitialCheckpoint(
                            SpamLanguageModelRecipe.gpt2Config(64, 128, 4, 4), tok, 42, init);
                    if (objective.equals("causal-lm")) {
                        List<Row> rows = new ArrayList<>();
                        try (HuggingFaceTokenizer t = HuggingFaceTokenizer.builder()
                                .optTokenizerPath(tok.resolve("tokenizer.json"))
                                .optAddSpecialTokens(false)
                                .build()) {
                            var hamTrain = SpamLanguageModelRecipe.blocks(
                                    emails, t, SpamLanguageModelRecipe.Corpus.HAM, false, 64, TRAIN_ROWS);
                            var hamEval = SpamLanguageModelRecipe.blocks(
                                    emails, t, SpamLanguageModelRecipe.Corpus.HAM, true, 64, EVAL_ROWS);
                            for (String s : SpamLanguageModelRecipe.texts(hamTrain, t))
                                rows.add(RowFactory.create(s, false));
                            for (String s : SpamLanguageModelRecipe.texts(hamEval, t))
                                rows.add(RowFactory.create(s, true));
                        }
                        CausalLanguageModelTrainer c = new CausalLanguageModelTrainer()
                                .setTrainingArguments(args(steps, workers))
                                .setOutputDir(dir.resolve("out").toString())
                                .setNumWorkers(workers)
                                .setModel(init.toString())
                                .setMaxLength(64)
                                .setValidationIndicatorCol("isEval");
                        if (lora) {
                            c.setLoraR(8).setLoraAlpha(16).setLoraTargetModules(new String[] {"c_attn", "c_proj", "c_fc"
                            });
                        }
                        var fit = c.fitWithSummary(frame(spark, rows, TEXT_EVAL));
                        train = fit.summary().trainMetrics();
                        eval = fit.summary().evalMetrics();
                        saved = Path.of(fit.summary().outputDir().replaceFirst("^file:", ""));
                    } else {
                        if (workers > 1) {
                            throw new IllegalArgumentException("instruction pairs train through the Trainer on one "
                                    + "worker (no Estimator takes prompt/response columns yet)");
                        }
                        List<TextDataset.Row> tr = new ArrayList<>();
                        List<TextDataset.Row> ev = new ArrayList<>();
                        for (SpamAssassin.Email e : emails) {
                            if (!e.label().equals("ham")) continue;
                            int cut = opening(e.text(), 8);
                            if (cut <= 0) continue;
                            boolean isEval = SpamAssassin.isEval(e.id());
                            List<TextDataset.Row> to = isEval ? ev : tr;
                            if (to.size() >= (isEval ? EVAL_ROWS : TRAIN_ROWS)) continue;
                            to.add(new TextDataset.Row(
                                    e.id(),
                                    "Continue this email: " + e.text().substring(0, cut) + "\n",
                                    e.text().substring(cut).strip(),
                                    null));
                        }
                        TrainingArguments args = TrainingArguments.fromMap(Map.of(
                                "output_dir",
                                dir.resolve("out").toString(),
                                "max_steps",
                                steps,
                                "per_device_train_batch_size",
                                GLOBAL_BATCH,
                                "learning_rate",
                                1e-3,
                                "save_strategy",
                                "no",
                                "eval_strategy",
                                "no",
                                "logging_steps",
                                Math.max(1, steps / 4),
                                "seed",
                                42));
                        TrainingTask task = lora
                                ? TrainingTask.causalLanguageModeling(
                                        init,
                                        64,
                                        false,
                                        true,
                                        io.sparkformers.nn.lora.LoraConfig.of(8, 16, GPT2_LORA_TARGETS))
                                : TrainingTask.instructionTuning(init, 64);
                        Trainer.TrainOutput o = Trainer.builder(args, task)
                                .build()
                                .train(new TextDataset("ham instructions", tr), new TextDataset("ham eval", ev));
                        train = o.trainMetrics();
                        eval = o.evalMetrics();
                        saved = o.outputDir();
                    }
                }
                case "masked-lm" -> {
                    List<Row> rows = emailRows(emails, e -> RowFactory.create(e.text(), SpamAssassin.isEval(e.id())));
                    MaskedLanguageModelTrainer m = new MaskedLanguageModelTrainer()
                            .setTrainingArguments(args(steps, workers))
                            .setOutputDir(dir.resolve("out").toString())
                            .setNumWorkers(workers)
                            .setModel(miniLm())
                            .setMaxLength(128)
                            .setValidationIndicatorCol("isEval");
                    if (lora) m.setLoraR(8).setLoraAlpha(16);
                    var fit = m.fitWithSummary(frame(spark, rows, TEXT_EVAL));
                    train = fit.summary().trainMetrics();
                    eval = fit.summary().evalMetrics();
                    saved = Path.of(fit.summary().outputDir().replaceFirst("^file:", ""));
                }
                case "question-answering" -> {
                    List<Row> rows = new ArrayList<>();
                    for (Row x : emailRows(emails, e -> {
                        int cut = opening(e.text(), 3);
                        return cut <= 0
                                ? null
                                : RowFactory.create(
                                        "How does this email begin?",
                                        e.text(),
                                        e.text().substring(0, cut),
                                        SpamAssassin.isEval(e.id()));
                    })) rows.add(x);
                    QuestionAnsweringTrainer q = new QuestionAnsweringTrainer()
                            .setTrainingArguments(args(steps, workers))
                            .setOutputDir(dir.resolve("out").toString())
                            .setNumWorkers(workers)
                            .setModel(miniLm())
                            .setMaxLength(128)
                            .setDocStride(32)
                            .setValidationIndicatorCol("isEval");
                    if (lora) q.setLoraR(8).setLoraAlpha(16);
                    var fit = q.fitWithSummary(frame(spark, rows, QA));
                    train = fit.summary().trainMetrics();
                    eval = fit.summary().evalMetrics();
                    saved = Path.of(fit.summary().outputDir().replaceFirst("^file:", ""));
                }
                case "text-classification" -> {
                    List<Row> rows =
                            emailRows(emails, e -> RowFactory.create(e.text(), e.label(), SpamAssassin.isEval(e.id())));
                    TextClassifier c = new TextClassifier()
                            .setTrainingArguments(args(steps, workers))
                            .setOutputDir(dir.resolve("out").toString())
                            .setNumWorkers(workers)
                            .setModel(miniLm())
                            .setMaxLength(128)
                            .setLabelCol("label")
                            .setValidationIndicatorCol("isEval");
                    if (lora) c.setLoraR(8).setLoraAlpha(16);
                    var fit = c.fitWithSummary(frame(spark, rows, LABELLED));
                    train = fit.summary().trainMetrics();
                    eval = fit.summary().evalMetrics();
                    saved = Path.of(fit.summary().outputDir().replaceFirst("^file:", ""));
                }
                default -> throw new IllegalArgumentException("unknown objective " + objective);
            }
            r.put(
                    "trainable_parameters",
                    lora
                            ? elements(saved.resolve(LoraModel.FIT_FOLDER).resolve(LoraModel.WEIGHTS_FILE))
                            : elements(saved.resolve("model.safetensors")));
            r.put("train_samples_per_second", train.get("train_samples_per_second"));
            r.put("train_loss", train.get("train_loss"));
            r.put("eval", eval);
        } finally {
            spark.stop();
        }
        r.put("wall_seconds", Math.round((System.nanoTime() - t0) / 1e9));
        return r;
    }

    static final StructType TEXT_EVAL =
            new StructType().add("text", DataTypes.StringType).add("isEval", DataTypes.BooleanType);
    static final StructType LABELLED = new StructType()
            .add("text", DataTypes.StringType)
            .add("label", DataTypes.StringType)
            .add("isEval", DataTypes.BooleanType);
    static final StructType QA = new StructType()
            .add("question", DataTypes.StringType)
            .add("context", DataTypes.StringType)
            .add("answer", DataTypes.StringType)
            .add("isEval", DataTypes.BooleanType);

    /** The first TRAIN_ROWS training and EVAL_ROWS evaluation emails (both classes) as rows (null: skipped). */
    private static List<Row> emailRows(
            List<SpamAssassin.Email> emails, java.util.function.Function<SpamAssassin.Email, Row> f) {
        List<Row> out = new ArrayList<>();
        int tr = 0;
        int ev = 0;
        for (SpamAssassin.Email e : emails) {
            boolean isEval = SpamAssassin.isEval(e.id());
            if (isEval ? ev >= EVAL_ROWS : tr >= TRAIN_ROWS) continue;
            Row r = f.apply(e);
            if (r == null) continue;
            out.add(r);
            if (isEval) ev++;
            else tr++;
        }
        return out;
    }

    /** The training arguments every row shares (global batch 8 split over the workers). */
    private static Map<String, Object> args(int steps, int workers) {
        return Map.of(
                "max_steps",
                steps,
                "per_device_train_batch_size",
                GLOBAL_BATCH / workers,
                "learning_rate",
                1e-3,
                "save_strategy",
                "no",
                "eval_strategy",
                "no",
                "logging_steps",
                Math.max(1, steps / 4),
                "seed",
                42);
    }

    private static String miniLm() throws IOException {
        return BuiltinModels.resolve(BuiltinModels.get("all-MiniLM-L6-v2")).toString();
    }

    private static Dataset<Row> frame(SparkSession spark, List<Row> rows, StructType schema) {
        return spark.createDataFrame(rows, schema).repartition(2);
    }

    private static long elements(Path safetensors) throws IOException {
        long n = 0;
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(safetensors)) {
            for (var t : c.readAll().values()) {
                long e = 1;
                for (long d : t.shape()) e *= d;
                n += e;
            }
        }
        return n;
    }

    /** The end of the first {@code words} words of a cleaned email (whitespace is single spaces), or -1 if shorter. */
    static int opening(String text, int words) {
        int at = -1;
        for (int w = 0; w < words; w++) {
            at = text.indexOf(' ', at + 1);
            if (at < 0) return -1;
        }
        return at;
    }

    static long vmHwmKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        return -1;
    }

    /** The rows as the Markdown table of docs/training.md. */
    static String markdown(List<Map<String, Object>> rows) {
        StringBuilder b = new StringBuilder("| objective | weights | workers | trainable params | peak RSS (MiB) | "
                + "samples/s | final train loss | eval |\n|---|---|---:|---:|---:|---:|---:|---|\n");
        for (Map<String, Object> r : rows) {
            b.append("| ")
                    .append(r.get("objective"))
                    .append(" | ")
                    .append(r.get("mode"))
                    .append(" | ")
                    .append(r.get("workers"))
                    .append(" | ");
            if (r.containsKey("refused") || r.containsKey("failed")) {
                Object why = r.containsKey("refused") ? r.get("refused") : r.get("failed");
                b.append("— | — | — | — | refused: ")
                        .append(String.valueOf(why).replace("|", "/"))
                        .append(" |\n");
                continue;
            }
            b.append(String.format(
                    java.util.Locale.ROOT,
                    "%,d | %s | %s | %.3f | %s |%n",
                    ((Number) r.get("trainable_parameters")).longValue(),
                    r.get("peak_rss_mib"),
                    r.get("train_samples_per_second"),
                    ((Number) r.get("train_loss")).doubleValue(),
                    evalCell(r.get("eval"))));
        }
        return b.toString();
    }

    private static String evalCell(Object eval) {
        if (!(eval instanceof Map<?, ?> m) || m.isEmpty()) return "—";
        List<String> parts = new ArrayList<>();
        for (String k : List.of("eval_loss", "eval_perplexity", "eval_exact_match", "eval_f1", "eval_accuracy")) {
            Object v = m.get(k);
            if (v instanceof Number n)
                parts.add(k.substring(5) + " " + String.format(java.util.Locale.ROOT, "%.3f", n.doubleValue()));
        }
        return String.join(", ", parts);
    }
}
