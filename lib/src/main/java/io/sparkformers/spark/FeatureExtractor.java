package io.sparkformers.spark;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.nn.EncoderOutputs;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import io.sparkformers.spark.TokenBudgetBatcher.Batch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * HF {@code pipeline("feature-extraction")} as a Spark stage: the encoder's last hidden state, one vector per token
 * (special tokens included, padding excluded), as {@code array<array<float>>} of shape (tokens, hidden). With
 * {@code hiddenStatesCol} set, HF's {@code output_hidden_states} too: the embeddings' and every layer's output,
 * {@code array<array<array<float>>>} (layers + 1, tokens, hidden); with {@code attentionsCol}, HF's
 * {@code output_attentions}: every layer's attention probabilities per head, {@code array<array<array<array<float>>>>}
 * (layers, heads, tokens, tokens), query row by key column — it grows with the square of the row's length (BERT-Base,
 * 512 tokens: 151 MB a row). BERT, RoBERTa, XLM-RoBERTa and DistilBERT checkpoints.
 */
public final class FeatureExtractor extends ModelStage<FeatureExtractor> {
    private static final long serialVersionUID = 1L;

    private final Param<String> hiddenStatesCol;
    private final Param<String> attentionsCol;

    public FeatureExtractor(String uid) {
        super(uid, "features");
        hiddenStatesCol = new Param<>(
                this,
                "hiddenStatesCol",
                "array<array<array<float>>> column with HF's hidden_states (output_hidden_states): the embeddings' and "
                        + "every layer's output, (layers + 1, tokens, hidden) (\"\" for none)");
        attentionsCol = new Param<>(
                this,
                "attentionsCol",
                "array<array<array<array<float>>>> column with HF's attentions (output_attentions): every layer's "
                        + "attention probabilities, (layers, heads, tokens, tokens) (\"\" for none)");
        setDefault(hiddenStatesCol, "");
        setDefault(attentionsCol, "");
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

    public Param<String> hiddenStatesCol() {
        return hiddenStatesCol;
    }

    public Param<String> attentionsCol() {
        return attentionsCol;
    }

    public String getHiddenStatesCol() {
        return getOrDefault(hiddenStatesCol);
    }

    public String getAttentionsCol() {
        return getOrDefault(attentionsCol);
    }

    public FeatureExtractor setHiddenStatesCol(String v) {
        set(hiddenStatesCol, v);
        return this;
    }

    public FeatureExtractor setAttentionsCol(String v) {
        set(attentionsCol, v);
        return this;
    }

    @Override
    protected StructField[] outputFields() {
        StructType t = new StructType().add(getOutputCol(), outputDataType(), true);
        if (!getHiddenStatesCol().isEmpty()) t = t.add(getHiddenStatesCol(), arrays(3), true);
        if (!getAttentionsCol().isEmpty()) t = t.add(getAttentionsCol(), arrays(4), true);
        return t.fields();
    }

    /** {@code array<…array<float>>}, {@code depth} arrays deep. */
    private static DataType arrays(int depth) {
        DataType t = DataTypes.FloatType;
        for (int i = 0; i < depth; i++) t = DataTypes.createArrayType(t, false);
        return t;
    }

    @Override
    protected Task task() {
        return Task.BASE;
    }

    @Override
    protected DataType outputDataType() {
        return arrays(2);
    }

    @Override
    protected RowScorer scorer() {
        return new Scorer(!getHiddenStatesCol().isEmpty(), !getAttentionsCol().isEmpty());
    }

    private static final class Scorer extends RowScorer {
        private static final long serialVersionUID = 1L;
        private final boolean hiddenStates;
        private final boolean attentions;

        Scorer(boolean hiddenStates, boolean attentions) {
            this.hiddenStates = hiddenStates;
            this.attentions = attentions;
        }

        @Override
        protected Object[] score(HfModel model, TextTokenizer tokenizer, Batch batch, NDManager scope) {
            if (!hiddenStates && !attentions) {
                return tokenRows(model.predict(inputs(scope, batch)).head(), batch); // (B, T, H)
            }
            if (!(model.block() instanceof EncoderOutputs.Source source)) {
                throw new IllegalArgumentException("hiddenStatesCol / attentionsCol are not offered for "
                        + model.block().architecture() + " (offered for BERT, RoBERTa, XLM-RoBERTa and DistilBERT)");
            }
            EncoderOutputs o = source.predictOutputs(inputs(scope, batch), hiddenStates, attentions);
            Object[] last = tokenRows(o.lastHiddenState(), batch);
            float[][][][] layers = new float[batch.size()][o.hiddenStates().size()][][];
            for (int l = 0; l < o.hiddenStates().size(); l++) {
                Object[] rows = tokenRows(o.hiddenStates().get(l), batch);
                for (int r = 0; r < rows.length; r++) layers[r][l] = (float[][]) rows[r];
            }
            float[][][][][] probs = new float[batch.size()][o.attentions().size()][][][];
            for (int l = 0; l < o.attentions().size(); l++) {
                NDArray a = o.attentions().get(l); // (B, nh, T, T)
                int nh = (int) a.getShape().get(1);
                int t = batch.seqLength();
                float[] flat = a.toFloatArray();
                for (int r = 0; r < batch.size(); r++) {
                    int n = batch.lengths()[r];
                    float[][][] heads = new float[nh][n][];
                    for (int h = 0; h < nh; h++) {
                        for (int q = 0; q < n; q++) {
                            int from = ((r * nh + h) * t + q) * t;
                            heads[h][q] = Arrays.copyOfRange(flat, from, from + n);
                        }
                    }
                    probs[r][l] = heads;
                }
            }
            Object[] out = new Object[batch.size()];
            for (int r = 0; r < out.length; r++) {
                List<Object> values = new ArrayList<>(List.of(last[r]));
                if (hiddenStates) values.add(layers[r]);
                if (attentions) values.add(probs[r]);
                out[r] = columns(values.toArray());
            }
            return out;
        }

        /** (B, T, H) → per row its own tokens' vectors, float[tokens][hidden]. */
        private static Object[] tokenRows(NDArray hidden, Batch batch) {
            float[] flat = hidden.toFloatArray();
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
