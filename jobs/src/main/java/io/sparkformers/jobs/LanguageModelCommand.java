package io.sparkformers.jobs;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.sparkformers.hub.Json;
import io.sparkformers.jobs.corpora.Gpt2Tokenizer;
import io.sparkformers.jobs.corpora.SpamAssassin;
import io.sparkformers.jobs.recipes.SpamLanguageModelRecipe;
import io.sparkformers.jobs.recipes.SpamLanguageModelRecipe.Blocks;
import io.sparkformers.jobs.recipes.SpamLanguageModelRecipe.Corpus;
import io.sparkformers.spark.CausalLanguageModelTrainer;
import io.sparkformers.spark.TextGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code sparkformers lm-train}: the end-to-end language-model run a user can repeat — a small GPT-2-shaped model
 * trained from scratch with the real GPT-2 tokenizer on the ham emails of SpamAssassin across {@code --workers}
 * data-parallel replicas ({@link CausalLanguageModelTrainer}), validation perplexity before and after, samples from the
 * fitted {@link TextGenerator}; then the model tuned on a second corpus (the spam emails) and perplexity on both
 * ({@link SpamLanguageModelRecipe}).
 */
@Command(
        name = "lm-train",
        mixinStandardHelpOptions = true,
        description = "Train a small GPT-2 from scratch on SpamAssassin ham (GPT-2 tokenizer, N replicas), generate, "
                + "then tune it on the spam emails; report validation perplexity on both corpora.")
public final class LanguageModelCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Option(names = "--output", required = true, paramLabel = "DIR", description = "Folder of the runs and report.")
    Path output;

    @Option(names = "--workers", defaultValue = "2", description = "Data-parallel replicas (default ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--block-size", defaultValue = "64", description = "Tokens per block (default ${DEFAULT-VALUE}).")
    int blockSize;

    @Option(names = "--n-embd", defaultValue = "128", description = "Width (default ${DEFAULT-VALUE}).")
    int nEmbd;

    @Option(names = "--n-layer", defaultValue = "4", description = "Layers (default ${DEFAULT-VALUE}).")
    int nLayer;

    @Option(names = "--n-head", defaultValue = "4", description = "Attention heads (default ${DEFAULT-VALUE}).")
    int nHead;

    @Option(
            names = "--train-blocks",
            defaultValue = "1200",
            description = "Ham training blocks (default ${DEFAULT-VALUE}).")
    int trainBlocks;

    @Option(
            names = "--tune-blocks",
            defaultValue = "320",
            description = "Spam blocks for the second stage (default ${DEFAULT-VALUE}).")
    int tuneBlocks;

    @Option(
            names = "--eval-blocks",
            defaultValue = "48",
            description = "Validation blocks per corpus (default ${DEFAULT-VALUE}).")
    int evalBlocks;

    @Option(names = "--steps", defaultValue = "150", description = "From-scratch steps (default ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--tune-steps", defaultValue = "40", description = "Second-stage steps (default ${DEFAULT-VALUE}).")
    int tuneSteps;

    @Option(names = "--batch-size", defaultValue = "4", description = "Per-replica batch (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--lr", defaultValue = "2e-3", description = "From-scratch peak lr (default ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--tune-lr", defaultValue = "5e-4", description = "Second-stage lr (default ${DEFAULT-VALUE}).")
    double tuneLr;

    @Option(names = "--seed", defaultValue = "42", description = "Seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(
            names = "--tune-lora-r",
            defaultValue = "0",
            description = "LoRA rank of the second stage on c_attn, c_proj and c_fc, lora_alpha 2r (0: full "
                    + "fine-tuning; default ${DEFAULT-VALUE}).")
    int tuneLoraR;

    @Option(
            names = "--tune-lora-dropout",
            defaultValue = "0.0",
            description = "lora_dropout of the second stage's adapter (default ${DEFAULT-VALUE}).")
    double tuneLoraDropout;

    @Option(
            names = "--from-model",
            paramLabel = "DIR",
            description = "Skip the from-scratch stage: tune this GPT-2 checkpoint (an earlier run's ham/ folder; "
                    + "its block size and tokenizer must be this run's).")
    Path fromModel;

    static final List<String> PROMPTS =
            List.of("Subject: Re: ", "I have been using Linux for", "Dear Friend, you have been selected to");

    @Override
    public Integer call() throws Exception {
        if (workers < 1) throw new IllegalArgumentException("--workers must be >= 1 but was " + workers);
        if (blockSize < 2 || blockSize > 1024) {
            throw new IllegalArgumentException(
                    "--block-size must be in 2..1024 (GPT-2's positions) but was " + blockSize);
        }
        if (batchSize < 1 || steps < 1 || tuneSteps < 0 || trainBlocks < 1 || tuneBlocks < 1 || evalBlocks < 1) {
            throw new IllegalArgumentException("--batch-size, --steps, --train-blocks, --tune-blocks and --eval-blocks "
                    + "must be >= 1 and --tune-steps >= 0");
        }
        if (tuneLoraR < 0) throw new IllegalArgumentException("--tune-lora-r must be >= 0 but was " + tuneLoraR);
        if (fromModel != null && !Files.isRegularFile(fromModel.resolve("config.json"))) {
            throw new IllegalArgumentException("--from-model " + fromModel + " holds no config.json: give a checkpoint "
                    + "folder such as an earlier run's ham/");
        }
        if (nEmbd % nHead != 0) {
            throw new IllegalArgumentException("--n-embd " + nEmbd + " is not a multiple of --n-head " + nHead);
        }
        long t0 = System.nanoTime();
        Path tokenizer = Gpt2Tokenizer.ensure();
        List<SpamAssassin.Email> emails = SpamAssassin.load();
        Map<String, Object> report = new LinkedHashMap<>();
        Blocks hamTrain;
        Blocks hamEval;
        Blocks spamTrain;
        Blocks spamEval;
        List<String> hamRows;
        List<String> spamRows;
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.builder()
                .optTokenizerPath(tokenizer.resolve("tokenizer.json"))
                .optAddSpecialTokens(false)
                .optTruncation(false)
                .optPadding(false)
                .build()) {
            hamTrain = SpamLanguageModelRecipe.blocks(emails, tok, Corpus.HAM, false, blockSize, trainBlocks);
            hamEval = SpamLanguageModelRecipe.blocks(emails, tok, Corpus.HAM, true, blockSize, evalBlocks);
            spamTrain = SpamLanguageModelRecipe.blocks(emails, tok, Corpus.SPAM, false, blockSize, tuneBlocks);
            spamEval = SpamLanguageModelRecipe.blocks(emails, tok, Corpus.SPAM, true, blockSize, evalBlocks);
            hamRows = SpamLanguageModelRecipe.texts(hamTrain, tok);
            spamRows = SpamLanguageModelRecipe.texts(spamTrain, tok);
        }
        for (Blocks b : List.of(hamTrain, hamEval, spamTrain, spamEval)) {
            report.put(
                    b.corpus().name().toLowerCase() + (b.eval() ? "_eval" : "_train"),
                    Map.of("blocks", b.ids().size(), "emails", b.emails(), "tokens", b.tokens()));
        }
        Files.createDirectories(output);
        Path ham = fromModel != null ? fromModel : output.resolve("ham");
        Path spam = output.resolve("spam");
        if (fromModel == null) {
            Path init = output.resolve("init");
            long params = SpamLanguageModelRecipe.writeInitialCheckpoint(
                    SpamLanguageModelRecipe.gpt2Config(blockSize, nEmbd, nLayer, nHead), tokenizer, seed, init);
            report.put("parameters", params);
            report.put("perplexity_init", perplexities(init, hamEval, spamEval));
            say("init: %,d parameters; validation perplexity %s", params, report.get("perplexity_init"));
        }
        try (SparkSessions.Owned session = SparkSessions.open("sparkformers-lm-train")) {
            SparkSession spark = session.spark();
            if (fromModel == null) {
                var fit = trainer(output.resolve("init"), ham, steps, lr, 0.05).fitWithSummary(rows(spark, hamRows));
                report.put("ham_fit", fit.summary().trainMetrics());
                report.put("perplexity_after_ham", perplexities(ham, hamEval, spamEval));
                say(
                        "after %d steps on ham: %s (%s s)",
                        steps,
                        report.get("perplexity_after_ham"),
                        fit.summary().trainMetrics().get("train_runtime"));
                report.put("samples", samples(spark, fit.model()));
            } else {
                report.put("from_model", fromModel.toString());
                report.put("perplexity_after_ham", perplexities(ham, hamEval, spamEval));
                say("from %s: validation perplexity %s", fromModel, report.get("perplexity_after_ham"));
            }

            if (tuneSteps == 0) {
                report.put("wall_seconds", Math.round((System.nanoTime() - t0) / 1e9));
                Json.write(output.resolve("lm-train-report.json"), Json.MAPPER.valueToTree(report));
                System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(report));
                return 0;
            }
            var tuner = trainer(ham, spam, tuneSteps, tuneLr, 0.0);
            if (tuneLoraR > 0) {
                tuner.setLoraR(tuneLoraR)
                        .setLoraAlpha(2.0 * tuneLoraR)
                        .setLoraDropout(tuneLoraDropout)
                        .setLoraTargetModules(new String[] {"c_attn", "c_proj", "c_fc"});
                report.put(
                        "tune_lora",
                        Map.of("r", tuneLoraR, "lora_alpha", 2 * tuneLoraR, "lora_dropout", tuneLoraDropout));
            }
            var tuned = tuner.fitWithSummary(rows(spark, spamRows));
            report.put("spam_fit", tuned.summary().trainMetrics());
            report.put("perplexity_after_spam", perplexities(spam, hamEval, spamEval));
            say("after %d more steps on spam: %s", tuneSteps, report.get("perplexity_after_spam"));
            report.put("samples_after_spam", samples(spark, tuned.model()));
        }
        report.put("wall_seconds", Math.round((System.nanoTime() - t0) / 1e9));
        Json.write(output.resolve("lm-train-report.json"), Json.MAPPER.valueToTree(report));
        System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(report));
        return 0;
    }

    private CausalLanguageModelTrainer trainer(Path from, Path out, int maxSteps, double peak, double warmup) {
        return new CausalLanguageModelTrainer()
                .setModel(from.toString())
                .setOutputDir(out.toString())
                .setNumWorkers(workers)
                .setPerDeviceTrainBatchSize(batchSize)
                .setMaxSteps(maxSteps)
                .setLearningRate(peak)
                .setWarmupRatio(warmup)
                .setWeightDecay(0.01)
                .setMaxLength(blockSize)
                .setSaveStrategy("no")
                .setLoggingSteps(Math.max(1, maxSteps / 10))
                .setSeed(seed);
    }

    private Dataset<Row> rows(SparkSession spark, List<String> texts) {
        return spark.createDataset(texts, Encoders.STRING()).toDF("text").repartition(Math.max(2, workers));
    }

    private Map<String, Double> perplexities(Path model, Blocks hamEval, Blocks spamEval) throws Exception {
        Map<String, Double> p = new LinkedHashMap<>();
        p.put("ham", round(SpamLanguageModelRecipe.perplexity(model, hamEval.ids(), 8)));
        p.put("spam", round(SpamLanguageModelRecipe.perplexity(model, spamEval.ids(), 8)));
        return p;
    }

    private List<String> samples(SparkSession spark, TextGenerator stage) {
        Dataset<Row> prompts = spark.createDataset(PROMPTS, Encoders.STRING()).toDF("text");
        List<String> out = new ArrayList<>();
        for (Row r : stage.setOutputCol("generated")
                .setMaxNewTokens(40)
                .setDoSample(true)
                .setTopK(40)
                .setTemperature(0.8)
                .setSeed(seed)
                .transform(prompts)
                .select("generated")
                .collectAsList()) out.add(String.valueOf(r.get(0)));
        return out;
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    private static void say(String format, Object... args) {
        System.err.printf(format + "%n", args);
    }
}
