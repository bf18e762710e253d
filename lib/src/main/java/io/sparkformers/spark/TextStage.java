package io.sparkformers.spark;

import org.apache.spark.ml.Model;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.Arrays;

/**
 * Base of the Sparkformers Transformers: declares the {@link TextInputParams} once (uid first, so Params can read it),
 * the schema checks they share, and persistence through {@link StagePersistence} (metadata, then the model's files
 * under {@code path/data}). {@code S} is the concrete stage, so setters chain with its own type. Stages are Spark ML
 * {@code Model}s (Transformers with a parent), so a training Estimator can return one.
 */
public abstract class TextStage<S extends TextStage<S>> extends Model<S> implements TextInputParams, MLWritable {
    private static final long serialVersionUID = 1L;

    private final String uid;
    private final Param<String> model;
    private final IntParam maxLength;
    private final Param<String> inputCol;
    private final Param<String> inputPairCol;
    private final Param<String> inputIdsCol;
    private final Param<String> attentionMaskCol;
    private final Param<String> tokenTypeIdsCol;

    protected TextStage(String uid) {
        this.uid = uid;                                   // first: Params read it
        model = new Param<>(this, "model", "the checkpoint: a Hugging Face checkpoint folder, a Hadoop URI of one "
                + "(hdfs:, s3a:, file:) or a built-in alias such as all-MiniLM-L6-v2");
        maxLength = new IntParam(this, "maxLength", "tokens kept per row, special tokens included (> 0; capped by the "
                + "checkpoint's model_max_length; a SentenceEmbedder without it stops at the checkpoint's "
                + "sentence-transformers max_seq_length); longer texts are truncated", ParamValidators.gt(0));
        inputCol = new Param<>(this, "inputCol", "string column holding the text");
        inputPairCol = new Param<>(this, "inputPairCol", "string column holding the second segment of text pairs "
                + "(\"\" for none)");
        inputIdsCol = new Param<>(this, "inputIdsCol", "array<int> column of token ids; a model stage reads tokens "
                + "from it instead of inputCol when the dataset has it");
        attentionMaskCol = new Param<>(this, "attentionMaskCol", "array<int> column of the attention mask");
        tokenTypeIdsCol = new Param<>(this, "tokenTypeIdsCol", "array<int> column of token type (segment) ids");
        setDefault(maxLength, 512);
        setDefault(inputCol, "text");
        setDefault(inputPairCol, "");
        setDefault(inputIdsCol, "input_ids");
        setDefault(attentionMaskCol, "attention_mask");
        setDefault(tokenTypeIdsCol, "token_type_ids");
    }

    @Override
    public String uid() {
        return uid;
    }

    @Override public Param<String> model() { return model; }
    @Override public IntParam maxLength() { return maxLength; }
    @Override public Param<String> inputCol() { return inputCol; }
    @Override public Param<String> inputPairCol() { return inputPairCol; }
    @Override public Param<String> inputIdsCol() { return inputIdsCol; }
    @Override public Param<String> attentionMaskCol() { return attentionMaskCol; }
    @Override public Param<String> tokenTypeIdsCol() { return tokenTypeIdsCol; }

    @SuppressWarnings("unchecked")
    protected S self() {
        return (S) this;
    }

    public S setModel(String v) { set(model, v); return self(); }
    public S setMaxLength(int v) { set(maxLength, v); return self(); }
    public S setInputCol(String v) { set(inputCol, v); return self(); }
    public S setInputPairCol(String v) { set(inputPairCol, v); return self(); }
    public S setInputIdsCol(String v) { set(inputIdsCol, v); return self(); }
    public S setAttentionMaskCol(String v) { set(attentionMaskCol, v); return self(); }
    public S setTokenTypeIdsCol(String v) { set(tokenTypeIdsCol, v); return self(); }

    @Override
    public S copy(org.apache.spark.ml.param.ParamMap extra) {
        return defaultCopy(extra);
    }

    /** True when the model files under {@code path/data} are the whole checkpoint (false: tokenizer files only). */
    protected abstract boolean savesWeights();

    @Override
    public MLWriter write() {
        return new StagePersistence.Writer(this, savesWeights());
    }

    /** Whether rows are read from the token columns (the dataset has {@code inputIdsCol}) instead of text. */
    protected boolean readsTokens(StructType schema) {
        return Arrays.asList(schema.fieldNames()).contains(getInputIdsCol());
    }

    /** Fails unless the model Param is set. */
    protected void requireModel() {
        if (getModel() == null || getModel().isBlank()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " " + uid + ": the model Param is not set; "
                    + "call setModel with a checkpoint folder, a Hadoop URI or a built-in alias");
        }
    }

    /** Fails unless {@code col} exists and is a string; the message names the column, its type and the Param. */
    protected static void requireString(StructType schema, String col, String param) {
        StructField f = field(schema, col, param);
        if (!f.dataType().equals(DataTypes.StringType)) {
            throw new IllegalArgumentException("Input column '" + col + "' must be string type but got "
                    + f.dataType().catalogString() + "; set " + param + " to a string column or cast it");
        }
    }

    /** Fails unless {@code col} exists and is an array of int or bigint. */
    protected static void requireIntArray(StructType schema, String col, String param) {
        StructField f = field(schema, col, param);
        DataType t = f.dataType();
        if (!(t instanceof ArrayType a) || !(a.elementType().equals(DataTypes.IntegerType)
                || a.elementType().equals(DataTypes.LongType))) {
            throw new IllegalArgumentException("Input column '" + col + "' must be array<int> (token ids) but got "
                    + t.catalogString() + "; set " + param + " to a token column (as HuggingFaceTokenizer writes it)");
        }
    }

    protected static StructField field(StructType schema, String col, String param) {
        if (!Arrays.asList(schema.fieldNames()).contains(col)) {
            throw new IllegalArgumentException("Input column '" + col + "' does not exist (" + param + "); the dataset has "
                    + String.join(", ", schema.fieldNames()));
        }
        return schema.apply(col);
    }

    /** Fails when {@code col} is already in the schema. */
    protected static void requireAbsent(StructType schema, String col, String param) {
        if (Arrays.asList(schema.fieldNames()).contains(col)) {
            throw new IllegalArgumentException("Output column '" + col + "' already exists; set " + param
                    + " to a new name or drop the column first");
        }
    }

    /** Checks the text or token input columns this stage will read. */
    protected void validateInput(StructType schema) {
        if (readsTokens(schema)) {
            requireIntArray(schema, getInputIdsCol(), "inputIdsCol");
            for (String[] c : new String[][] {{getAttentionMaskCol(), "attentionMaskCol"}, {getTokenTypeIdsCol(), "tokenTypeIdsCol"}}) {
                if (Arrays.asList(schema.fieldNames()).contains(c[0])) requireIntArray(schema, c[0], c[1]);
            }
        } else {
            requireString(schema, getInputCol(), "inputCol");
            if (!getInputPairCol().isEmpty()) requireString(schema, getInputPairCol(), "inputPairCol");
        }
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + ": uid=" + uid + ", model=" + getModel();
    }
}
