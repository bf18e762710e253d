package io.sparkformers.spark;

import io.sparkformers.nn.Task;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;

/**
 * HF's {@code run_clm.py} as a Spark ML Estimator: fine-tunes a pretrained checkpoint (loaded as
 * {@code AutoModelForCausalLM}) on the texts of {@code inputCol} with the next-token loss across {@code numWorkers}
 * data-parallel Spark tasks, and returns a {@link TextGenerator} over the fine-tuned checkpoint (HF layout, in
 * {@code outputDir}). Evaluation rows ({@code validationIndicatorCol}) report {@code eval_loss} and
 * {@code eval_perplexity}. {@code groupTexts} (HF's default in {@code run_clm.py}, off here) needs {@code numWorkers}
 * 1: blocks never cross replicas or partitions ({@link LanguageModelingEstimator}).
 */
public final class CausalLanguageModelTrainer
        extends LanguageModelingEstimator<CausalLanguageModelTrainer, TextGenerator> {
    private static final long serialVersionUID = 1L;

    public CausalLanguageModelTrainer(String uid) {
        super(uid);
    }

    public CausalLanguageModelTrainer() {
        this(Identifiable$.MODULE$.randomUID("clmTrainer"));
    }

    public static MLReader<CausalLanguageModelTrainer> read() {
        return new DefaultParamsReader<>();
    }

    public static CausalLanguageModelTrainer load(String path) {
        return read().load(path);
    }

    @Override
    Task task() {
        return Task.CAUSAL_LM;
    }

    @Override
    DistributedTraining.TaskOptions options(DistributedTraining.TaskOptions o, boolean group) {
        return o.withLanguageModeling(group, o.mlmProbability(), o.wholeWordMask());
    }

    @Override
    TextGenerator fitted(String outputDir, String inputCol) {
        return new TextGenerator(uid()).setModel(outputDir).setInputCol(inputCol);
    }

    @Override
    public CausalLanguageModelTrainer copy(ParamMap extra) {
        return defaultCopy(extra);
    }
}
