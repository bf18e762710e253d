package io.sparkformers.jobs.corpora;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.convert.BuiltinModels;
import io.sparkformers.hub.Json;
import io.sparkformers.metrics.BleuState;
import io.sparkformers.metrics.RougeState;
import io.sparkformers.nn.Task;
import io.sparkformers.spark.LocalClusterSessions;
import io.sparkformers.spark.Seq2SeqFineTuner;
import io.sparkformers.spark.Summarizer;
import io.sparkformers.train.TextDataset;
import io.sparkformers.train.TrainingTask;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seq2seq end-to-end run (issue "No pretrained encoder-decoder weights"): a BART-shaped model initialised from
 * scratch (HF init, seed 42; d_model 64, 2+2 layers, 4 heads, FFN 256, 128 positions) over all-MiniLM-L6-v2's
 * WordPiece vocabulary ([CLS] = bos, [SEP] = eos and decoder start, [PAD] = pad), trained by {@link Seq2SeqFineTuner}
 * on 2 data-parallel replicas (2 executor JVMs, local-cluster[2,1,3072], numWorkers 2) to write the Subject line of a SpamAssassin email from its
 * body ({@link SpamHeadlines}). ROUGE (rouge_score with the Porter stemmer) and BLEU (sacrebleu's) of greedy
 * headlines on held-out emails, before (the initial checkpoint) and after, through the {@link Summarizer} stage; after
 * must clearly beat before. Sizes from {@code -Dsparkformers.headlines.steps} (400), {@code .train} (3000),
 * {@code .eval} (200).
 */
@Tag("slow")
class SpamHeadlinesSeq2SeqTest {
    static final int STEPS = Integer.getInteger("sparkformers.headlines.steps", 400);
    static final int TRAIN = Integer.getInteger("sparkformers.headlines.train", 3000);
    static final int EVAL = Integer.getInteger("sparkformers.headlines.eval", 200);

    static final StructType SCHEMA = new StructType()
            .add("body", DataTypes.StringType, false)
            .add("subject", DataTypes.StringType, false)
            .add("isEval", DataTypes.BooleanType, false);

    @TempDir
    Path tmp;

    @Test
    void bartFromScratchOnTwoReplicasLearnsToWriteSubjects() throws Exception {
        Path minilm = BuiltinModels.resolve(BuiltinModels.get("all-MiniLM-L6-v2"));
        ObjectNode config = Json.MAPPER
                .createObjectNode()
                .put("model_type", "bart")
                .put("vocab_size", 30522)
                .put("d_model", 64)
                .put("encoder_layers", 2)
                .put("decoder_layers", 2)
                .put("encoder_attention_heads", 4)
                .put("decoder_attention_heads", 4)
                .put("encoder_ffn_dim", 256)
                .put("decoder_ffn_dim", 256)
                .put("max_position_embeddings", 128)
                .put("activation_function", "gelu")
                .put("dropout", 0.1)
                .put("attention_dropout", 0.0)
                .put("activation_dropout", 0.0)
                .put("init_std", 0.02)
                .put("scale_embedding", false)
                .put("pad_token_id", 0)
                .put("bos_token_id", 101)
                .put("eos_token_id", 102)
                .put("decoder_start_token_id", 102)
                .put("forced_eos_token_id", 102);
        Path init = tmp.resolve("init");
        TrainingTask.initialCheckpoint(config, Task.SEQ2SEQ_LM, minilm, 42, init);
        TextDataset train = SpamHeadlines.split(false, TRAIN);
        TextDataset eval = SpamHeadlines.split(true, EVAL);

        // two executor JVMs, one replica each: the replicas all-reduce over real sockets
        SparkSession spark = LocalClusterSessions.start("SpamHeadlinesSeq2SeqTest", 2, 3072);
        spark.conf().set("spark.sql.shuffle.partitions", "4");
        try {
            List<Row> rows = new ArrayList<>();
            for (TextDataset.Row r : train.rows()) rows.add(RowFactory.create(r.text(), r.textPair(), false));
            for (TextDataset.Row r : eval.rows()) rows.add(RowFactory.create(r.text(), r.textPair(), true));
            Dataset<Row> df = spark.createDataFrame(
                    JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, 4), SCHEMA);
            Dataset<Row> held = df.filter("isEval");

            long t0 = System.nanoTime();
            Map<String, Double> before = score(spark, init.toString(), held);
            var fit = Seq2SeqFineTuner.summarization()
                    .setModel(init.toString())
                    .setSourceCol("body")
                    .setTargetCol("subject")
                    .setOutputDir(tmp.resolve("out").toString())
                    .setNumWorkers(2)
                    .setPerDeviceTrainBatchSize(8)
                    .setMaxSteps(STEPS)
                    .setLearningRate(1e-3)
                    .setWarmupSteps(STEPS / 20)
                    .setWeightDecay(0.01)
                    .setMaxLength(64)
                    .setMaxTargetLength(16)
                    .setValidationIndicatorCol("isEval")
                    .setEvalStrategy("no")
                    .setSaveStrategy("no")
                    .setLoggingSteps(50)
                    .setSeed(42)
                    .fitWithSummary(df.filter("not isEval"));
            double trainSeconds = (System.nanoTime() - t0) / 1e9;
            Map<String, Double> after = score(spark, fit.summary().outputDir(), held);
            String line = String.format(
                    Locale.ROOT,
                    "SpamAssassin headlines, BART from scratch (d_model 64, 2+2 layers, WordPiece 30522), %d train / "
                            + "%d eval emails, 2 replicas x batch 8, %d steps, lr 1e-3, 64/16 tokens: rouge1 %.4f -> %.4f, rouge2 "
                            + "%.4f -> %.4f, rougeL %.4f -> %.4f, rougeLsum %.4f -> %.4f, bleu %.2f -> %.2f "
                            + "(train loss %s, %.0f s)",
                    train.size(),
                    eval.size(),
                    STEPS,
                    before.get("rouge1"),
                    after.get("rouge1"),
                    before.get("rouge2"),
                    after.get("rouge2"),
                    before.get("rougeL"),
                    after.get("rougeL"),
                    before.get("rougeLsum"),
                    after.get("rougeLsum"),
                    before.get("bleu"),
                    after.get("bleu"),
                    fit.summary().trainMetrics().get("train_loss"),
                    trainSeconds);
            System.out.println(line);
            assertTrue(after.get("rouge1") > before.get("rouge1") + 0.05, line);
            assertTrue(after.get("rougeL") > before.get("rougeL") + 0.05, line);
        } finally {
            LocalClusterSessions.stop(spark);
        }
    }

    /** ROUGE (stemmed) and BLEU of the checkpoint's greedy headlines (16 new tokens) against the subjects. */
    static Map<String, Double> score(SparkSession spark, String model, Dataset<Row> held) {
        Summarizer s = new Summarizer()
                .setModel(model)
                .setInputCol("body")
                .setOutputCol("headline")
                .setMaxNewTokens(16)
                .setNumBeams(1)
                .setMaxSourceLength(64);
        RougeState rouge = new RougeState(true);
        BleuState bleu = new BleuState();
        for (Row r : s.transform(held).select("headline", "subject").collectAsList()) {
            rouge.add(r.getString(0), r.getString(1));
            bleu.add(r.getString(0), r.getString(1));
        }
        Map<String, Double> m = new java.util.LinkedHashMap<>(rouge.compute());
        m.put("bleu", bleu.compute().get("bleu"));
        return m;
    }
}
