package io.sparkformers.jobs;

import io.sparkformers.jobs.config.FinetuneConfig;
import io.sparkformers.spark.CausalLanguageModelTrainer;
import io.sparkformers.spark.LanguageModelingEstimator;
import io.sparkformers.spark.MaskedLanguageModelTrainer;
import io.sparkformers.spark.QuestionAnsweringTrainer;
import io.sparkformers.spark.Seq2SeqFineTuner;
import io.sparkformers.spark.TextClassifier;
import io.sparkformers.train.DataCollatorWithPadding.LabelKind;
import io.sparkformers.train.TextDataset;
import io.sparkformers.train.TrainingArguments;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** A finetune config turned into a {@link TextClassifier} and its input DataFrame (the {@code --workers N} path). */
final class DistributedFinetune {
    private DistributedFinetune() {}

    static final StructType SCHEMA = new StructType()
            .add("text", DataTypes.StringType, true)
            .add("text_pair", DataTypes.StringType, true)
            .add("label", DataTypes.StringType, true)
            .add("is_eval", DataTypes.BooleanType, false);

    /**
     * The Estimator for a config: model, mode, labels, max_length and every training argument. A training argument
     * the Estimator has no Param for must keep HF's default, else the config fails naming the key.
     */
    static TextClassifier classifier(FinetuneConfig c, Path model, int workers) {
        if (!c.mode().unfreezePatterns().isEmpty() || c.mode().headLrMultiplier() != 1.0) {
            throw new IllegalArgumentException("unfreeze_patterns and head_lr_multiplier are not supported with "
                    + "--workers > 1: use unfreeze_last_layers, or --workers 1");
        }
        TextClassifier est = new TextClassifier()
                .setModel(model.toString())
                .setNumWorkers(workers)
                .setMode(c.mode().kind().configName())
                .setUnfreezeLastLayers(c.mode().unfreezeLastLayers())
                .setMaxLength(c.data().maxLength())
                .setProblemType(problemType(c.labelKind()))
                .setInputCol("text")
                .setLabelCol("label")
                .setValidationIndicatorCol("is_eval");
        if (c.data().textPairCol() != null) est.setInputPairCol("text_pair");
        if (c.labels() != null) est.setLabels(c.labels().toArray(new String[0]));
        est.setLora(c.lora());
        return est.setTrainingArguments(trainingArguments(c, est.params()));
    }

    /**
     * The QA Estimator for a {@code task: question-answering} config: text_col is the question, text_pair_col the
     * context, label_col the answer text; objective.doc_stride and max_answer_length; training arguments as
     * {@link #classifier}.
     */
    static QuestionAnsweringTrainer questionAnswering(FinetuneConfig c, Path model, int workers) {
        if (!c.mode().unfreezePatterns().isEmpty() || c.mode().headLrMultiplier() != 1.0) {
            throw new IllegalArgumentException("unfreeze_patterns and head_lr_multiplier are not supported with "
                    + "--workers > 1: use unfreeze_last_layers, or --workers 1");
        }
        QuestionAnsweringTrainer est = new QuestionAnsweringTrainer()
                .setModel(model.toString())
                .setNumWorkers(workers)
                .setMode(c.mode().kind().configName())
                .setUnfreezeLastLayers(c.mode().unfreezeLastLayers())
                .setMaxLength(c.data().maxLength())
                .setQuestionCol("text")
                .setContextCol("text_pair")
                .setAnswerCol("label")
                .setDocStride(c.objective().docStride())
                .setMaxAnswerLen(c.objective().maxAnswerLength())
                .setValidationIndicatorCol("is_eval");
        return est.setTrainingArguments(trainingArguments(c, est.params()));
    }

    /**
     * The LM Estimator for a {@code task: masked-lm} or {@code causal-lm} config: text_col is the text;
     * objective.group_texts (each worker packs its own rows), mlm_probability and
     * whole_word_mask; the lora section as {@link #classifier}; training arguments as {@link #classifier}.
     * Instruction tuning (pairs or chat) and from_scratch stay on
     * {@code --workers 1}.
     */
    static LanguageModelingEstimator<?, ?> languageModel(FinetuneConfig c, Path model, int workers) {
        FinetuneConfig.Objective o = c.objective();
        if (o.instruction() || o.chat() || o.fromScratch()) {
            String key = o.instruction() ? "instruction" : o.chat() ? "chat" : "from_scratch";
            throw new IllegalArgumentException(
                    "objective." + key + " is not supported with --workers > 1: use --workers 1");
        }
        if (!c.mode().unfreezePatterns().isEmpty() || c.mode().headLrMultiplier() != 1.0) {
            throw new IllegalArgumentException("unfreeze_patterns and head_lr_multiplier are not supported with "
                    + "--workers > 1: use unfreeze_last_layers, or --workers 1");
        }
        LanguageModelingEstimator<?, ?> est = c.task() == io.sparkformers.nn.Task.MASKED_LM
                ? new MaskedLanguageModelTrainer()
                        .setMlmProbability(o.mlmProbability())
                        .setWholeWordMask(o.wholeWordMask())
                : new CausalLanguageModelTrainer();
        est.setModel(model.toString())
                .setNumWorkers(workers)
                .setMode(c.mode().kind().configName())
                .setUnfreezeLastLayers(c.mode().unfreezeLastLayers())
                .setMaxLength(c.data().maxLength())
                .setInputCol("text")
                .setGroupTexts(o.groupTexts())
                .setValidationIndicatorCol("is_eval");
        est.setLora(c.lora());
        est.setTrainingArguments(trainingArguments(c, est.params()));
        return est;
    }

    /**
     * The seq2seq Estimator for a {@code task: summarization | translation | text2text-generation} config: text_col is
     * the source, text_pair_col the target, data.max_length HF's max_source_length; objective.max_target_length,
     * source_prefix, predict_with_generate, generation_max_length and generation_num_beams; training arguments as
     * {@link #classifier}. The fitted stage is not used here (the checkpoint in output_dir is the result).
     */
    static Seq2SeqFineTuner<?> seq2seq(FinetuneConfig c, Path model, int workers) {
        FinetuneConfig.Objective o = c.objective();
        if (!c.mode().unfreezePatterns().isEmpty() || c.mode().headLrMultiplier() != 1.0) {
            throw new IllegalArgumentException("unfreeze_patterns and head_lr_multiplier are not supported with "
                    + "--workers > 1: use unfreeze_last_layers, or --workers 1");
        }
        Seq2SeqFineTuner<?> est = Seq2SeqFineTuner.text2text()
                .setModel(model.toString())
                .setNumWorkers(workers)
                .setMode(c.mode().kind().configName())
                .setUnfreezeLastLayers(c.mode().unfreezeLastLayers())
                .setMaxLength(c.data().maxLength())
                .setSourceCol("text")
                .setTargetCol("text_pair")
                .setSourcePrefix(o.sourcePrefix() == null ? "" : o.sourcePrefix())
                .setMaxTargetLength(o.maxTargetLength())
                .setPredictWithGenerate(o.predictWithGenerate())
                .setGenerationMaxLength(o.generationMaxLength())
                .setGenerationNumBeams(o.generationNumBeams())
                .setValidationIndicatorCol("is_eval");
        est.setTrainingArguments(trainingArguments(c, est.params()));
        return est;
    }

    /** The config's training arguments the Estimator has Params for; others must keep HF's default. */
    private static Map<String, Object> trainingArguments(
            FinetuneConfig c, org.apache.spark.ml.param.Param<?>[] params) {
        List<String> supported = new ArrayList<>();
        for (var p : params) supported.add(p.name());
        Map<String, Object> defaults =
                TrainingArguments.builder("unused").build().toMap();
        Map<String, Object> hf = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : c.training().toMap().entrySet()) {
            String key = e.getKey();
            Object v = e.getValue();
            if (supported.contains(camel(key))) {
                if (v != null) hf.put(key, v);
            } else if (!ignorable(key, v, defaults.get(key), c)) {
                throw new IllegalArgumentException(
                        "training." + key + " = " + v + " is not supported with --workers > 1"
                                + " (the distributed trainer has no such Param): remove it or use --workers 1");
            }
        }
        return hf;
    }

    private static boolean ignorable(String key, Object v, Object dflt, FinetuneConfig c) {
        if (Objects.equals(v, dflt)
                || (v instanceof Number a && dflt instanceof Number b && a.doubleValue() == b.doubleValue())) {
            return true;
        }
        return switch (key) {
            case "report_to" -> true; // the Estimator always writes log_history.jsonl
            case "greater_is_better" ->
                c.training().metricForBestModel() == null
                        || v.equals(!c.training().metricForBestModel().endsWith("loss"));
            default -> false;
        };
    }

    static String camel(String snake) {
        StringBuilder b = new StringBuilder();
        boolean up = false;
        for (char ch : snake.toCharArray()) {
            if (ch == '_') {
                up = true;
            } else {
                b.append(up ? Character.toUpperCase(ch) : ch);
                up = false;
            }
        }
        return b.toString();
    }

    private static String problemType(LabelKind k) {
        return switch (k) {
            case MULTI_LABEL -> TextClassifier.MULTI_LABEL;
            case REGRESSION -> TextClassifier.REGRESSION;
            default -> TextClassifier.SINGLE_LABEL;
        };
    }

    /** (text, text_pair, label, is_eval) rows, in {@code partitions} partitions. */
    static Dataset<Row> frame(SparkSession spark, TextDataset train, TextDataset eval, int partitions) {
        List<Row> rows = new ArrayList<>();
        for (TextDataset.Row r : train.rows()) rows.add(RowFactory.create(r.text(), r.textPair(), r.label(), false));
        if (eval != null) {
            for (TextDataset.Row r : eval.rows()) rows.add(RowFactory.create(r.text(), r.textPair(), r.label(), true));
        }
        return spark.createDataFrame(
                JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, partitions), SCHEMA);
    }
}
