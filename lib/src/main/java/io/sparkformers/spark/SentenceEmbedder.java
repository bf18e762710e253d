package io.sparkformers.spark;

import ai.djl.ndarray.NDManager;
import io.sparkformers.hub.TextTokenizer;
import io.sparkformers.nn.HfModel;
import io.sparkformers.nn.Task;
import io.sparkformers.spark.TokenBudgetBatcher.Batch;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;

/**
 * HF/sentence-transformers sentence embeddings as a Spark stage: text (or token columns) → one embedding per row,
 * pooled and normalised as the checkpoint's {@code modules.json} / {@code 1_Pooling} say, as an ML {@code Vector} or an
 * {@code array<float>} ({@code outputType}).
 */
public final class SentenceEmbedder extends ModelStage<SentenceEmbedder> {
    private static final long serialVersionUID = 1L;

    public static final String VECTOR = "vector";
    public static final String ARRAY = "array";

    private final Param<String> outputType;

    public SentenceEmbedder(String uid) {
        super(uid, "embedding");
        outputType = new Param<>(
                this,
                "outputType",
                "vector (ML Vector, for MLlib) or array (array<float>)",
                ParamValidators.inArray(new String[] {VECTOR, ARRAY}));
        setDefault(outputType, VECTOR);
    }

    public SentenceEmbedder() {
        this(Identifiable$.MODULE$.randomUID("sentEmb"));
    }

    public static MLReader<SentenceEmbedder> read() {
        return StagePersistence.textReader(SentenceEmbedder.class);
    }

    public static SentenceEmbedder load(String path) {
        return read().load(path);
    }

    public Param<String> outputType() {
        return outputType;
    }

    public String getOutputType() {
        return getOrDefault(outputType);
    }

    public SentenceEmbedder setOutputType(String v) {
        set(outputType, v);
        return this;
    }

    @Override
    protected Task task() {
        return Task.SENTENCE_EMBEDDING;
    }

    @Override
    protected DataType outputDataType() {
        return getOutputType().equals(VECTOR)
                ? SQLDataTypes.VectorType()
                : DataTypes.createArrayType(DataTypes.FloatType, false);
    }

    @Override
    protected RowScorer scorer() {
        return new Scorer(getOutputType().equals(VECTOR));
    }

    private static final class Scorer extends RowScorer {
        private static final long serialVersionUID = 1L;
        private final boolean vector;

        Scorer(boolean vector) {
            this.vector = vector;
        }

        @Override
        protected Object[] score(HfModel model, TextTokenizer tokenizer, Batch batch, NDManager scope) {
            float[] flat = model.predict(inputs(scope, batch)).head().toFloatArray(); // (B, H)
            return vectorsOrArrays(flat, batch.size(), vector);
        }
    }
}
