package io.sparkformers.spark;

import io.sparkformers.nn.Task;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;

/**
 * HF's {@code run_mlm.py} as a Spark ML Estimator: fine-tunes a pretrained checkpoint (loaded as
 * {@code AutoModelForMaskedLM}) on the texts of {@code inputCol} across {@code numWorkers} data-parallel Spark tasks
 * and returns a {@link FillMasker} over the fine-tuned checkpoint (HF layout, in {@code outputDir}). Masks are HF's
 * {@code DataCollatorForLanguageModeling} ({@code mlmProbability}, 80/10/10), seeded per (seed, step, example), so
 * the replica count does not change which tokens are masked. Evaluation rows ({@code validationIndicatorCol}) report
 * {@code eval_loss} and {@code eval_perplexity}. {@code groupTexts} needs {@code numWorkers} 1: blocks never cross
 * replicas or partitions ({@link LanguageModelingEstimator}).
 */
public final class MaskedLanguageModelTrainer
        extends LanguageModelingEstimator<MaskedLanguageModelTrainer, FillMasker> {
    private static final long serialVersionUID = 1L;

    private final DoubleParam mlmProbability;
    private final BooleanParam wholeWordMask;

    public MaskedLanguageModelTrainer(String uid) {
        super(uid);
        mlmProbability = new DoubleParam(
                this,
                "mlmProbability",
                "share of tokens chosen for the loss, in (0, 1) (HF mlm_probability)",
                ParamValidators.inRange(0, 1, false, false));
        wholeWordMask =
                new BooleanParam(this, "wholeWordMask", "choose whole words rather than tokens (HF whole_word_mask)");
        setDefault(mlmProbability, 0.15);
        setDefault(wholeWordMask, false);
    }

    public MaskedLanguageModelTrainer() {
        this(Identifiable$.MODULE$.randomUID("mlmTrainer"));
    }

    public static MLReader<MaskedLanguageModelTrainer> read() {
        return new DefaultParamsReader<>();
    }

    public static MaskedLanguageModelTrainer load(String path) {
        return read().load(path);
    }

    public DoubleParam mlmProbability() {
        return mlmProbability;
    }

    public BooleanParam wholeWordMask() {
        return wholeWordMask;
    }

    public MaskedLanguageModelTrainer setMlmProbability(double v) {
        set(mlmProbability, v);
        return this;
    }

    public MaskedLanguageModelTrainer setWholeWordMask(boolean v) {
        set(wholeWordMask, v);
        return this;
    }

    @Override
    Task task() {
        return Task.MASKED_LM;
    }

    @Override
    DistributedTraining.TaskOptions options(DistributedTraining.TaskOptions o, boolean group) {
        return o.withLanguageModeling(
                group, (Double) getOrDefault(mlmProbability), (Boolean) getOrDefault(wholeWordMask));
    }

    @Override
    FillMasker fitted(String outputDir, String inputCol) {
        return new FillMasker(uid()).setModel(outputDir).setInputCol(inputCol);
    }

    @Override
    public MaskedLanguageModelTrainer copy(ParamMap extra) {
        return defaultCopy(extra);
    }
}
