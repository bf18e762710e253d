package io.sparkformers.spark;

import ai.djl.ndarray.NDManager;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import io.sparkformers.spark.TokenBudgetBatcher.Batch;
import java.util.Arrays;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;

/**
 * HF {@code pipeline("feature-extraction")} as a Spark stage: the encoder's last hidden state, one vector per token
 * (special tokens included, padding excluded), as {@code array<array<float>>} of shape (tokens, hidden).
 */
public final class FeatureExtractor extends ModelStage<FeatureExtractor> {
    private static final long serialVersionUID = 1L;

    public FeatureExtractor(String uid) {
        super(uid, "features");
    }

    public FeatureExtractor() {
        this(Identifiable$.MODULE$.randomUID("featExt"));
    }

    public static MLReader<FeatureExtractor> read() {
        return StagePersistence.textReader(FeatureExtractor.class);
    }

    public static FeatureExtractor load(String path) {
        return read().load(path);
    }

    @Override
    protected Task task() {
        return Task.BASE;
    }

    @Override
    protected DataType outputDataType() {
        return DataTypes.createArrayType(DataTypes.createArrayType(DataTypes.FloatType, false), false);
    }

    @Override
    protected RowScorer scorer() {
        return new Scorer();
    }

    private static final class Scorer extends RowScorer {
        private static final long serialVersionUID = 1L;

        @Override
        protected Object[] score(HfModel model, TextTokenizer tokenizer, Batch batch, NDManager scope) {
            float[] flat = model.predict(inputs(scope, batch)).head().toFloatArray(); // (B, T, H)
            int t = batch.seqLength();
            int h = flat.length / (batch.size() * t);
            Object[] out = new Object[batch.size()];
            for (int r = 0; r < out.length; r++) {
                float[][] tokens = new float[batch.lengths()[r]][];
                for (int i = 0; i < tokens.length; i++) {
                    int from = (r * t + i) * h;
                    tokens[i] = Arrays.copyOfRange(flat, from, from + h);
                }
                out[r] = tokens;
            }
            return out;
        }
    }
}
