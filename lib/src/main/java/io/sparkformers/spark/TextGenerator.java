package io.sparkformers.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.nn.Task;
import java.util.Arrays;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * HF {@code pipeline("text-generation")} as a Spark stage, on a causal-LM checkpoint (GPT-2, Llama family): each
 * row's prompt ({@code inputCol}), or its conversation ({@code messagesCol}, {@code array<struct<role, content>>}
 * rendered by the checkpoint's chat template with the generation prompt), continued by HF's {@code generate()}. The
 * output {@code generated_text} is a string, or an {@code array<string>} with {@code numReturnSequences > 1}; for
 * text prompts it starts with the prompt under {@code returnFullText} (HF's default), for messages it is the
 * assistant's reply. Generation Params left unset take the checkpoint's generation_config.json, else HF's defaults
 * (the pipeline's max_new_tokens 256); the generation Params are {@link GenerationStage}'s, shared with the
 * encoder-decoder stages. Sampling ({@code doSample}) is reproducible per row: each row draws from its
 * own RNG, seeded from {@code seed} and the row's prompt text, whatever the partitioning and batching (equal prompts
 * draw equal samples; ask {@code numReturnSequences} for several). Prompts are batched by length within
 * {@code sortWindow} and left-padded, as HF batches them, under {@code maxTokensPerBatch} counted as the KV cache
 * will hold it: rows × (longest prompt + max_new_tokens) × (num_beams for beam search, else num_return_sequences); a
 * single prompt over the budget runs alone. Token columns are not read by this stage.
 */
public final class TextGenerator extends GenerationStage<TextGenerator> {
    private static final long serialVersionUID = 1L;

    private final Param<String> messagesCol;
    private final BooleanParam returnFullText;

    public TextGenerator(String uid) {
        super(uid, "generated_text", "256");
        messagesCol = new Param<>(
                this,
                "messagesCol",
                "column of chat messages, array<struct<role: string, content: string>>, rendered by the checkpoint's "
                        + "chat template (empty: read the prompt text from inputCol)");
        returnFullText = new BooleanParam(
                this, "returnFullText", "text prompts: the output starts with the prompt (HF return_full_text)");
        setDefault(messagesCol, "");
        setDefault(returnFullText, true);
    }

    public TextGenerator() {
        this(Identifiable$.MODULE$.randomUID("textGen"));
    }

    public static MLReader<TextGenerator> read() {
        return StagePersistence.textReader(TextGenerator.class);
    }

    public static TextGenerator load(String path) {
        return read().load(path);
    }

    public Param<String> messagesCol() {
        return messagesCol;
    }

    public BooleanParam returnFullText() {
        return returnFullText;
    }

    public String getMessagesCol() {
        return getOrDefault(messagesCol);
    }

    public boolean getReturnFullText() {
        return (Boolean) getOrDefault(returnFullText);
    }

    public TextGenerator setMessagesCol(String v) {
        set(messagesCol, v);
        return this;
    }

    public TextGenerator setReturnFullText(boolean v) {
        set(returnFullText, v);
        return this;
    }

    /** {@link GenerationStage#generateKwargs()} with return_full_text. */
    @Override
    public ObjectNode generateKwargs() {
        return super.generateKwargs().put("return_full_text", getReturnFullText());
    }

    /** {@link GenerationStage#setKwarg}, and return_full_text. */
    @Override
    protected void setKwarg(String key, JsonNode v) {
        if (key.equals("return_full_text")) setReturnFullText(bool(key, v));
        else super.setKwarg(key, v);
    }

    @Override
    protected Task task() {
        return Task.CAUSAL_LM;
    }

    @Override
    protected void validateInput(StructType schema) {
        if (getMessagesCol().isEmpty()) {
            super.validateInput(schema);
            return;
        }
        String col = getMessagesCol();
        if (!Arrays.asList(schema.fieldNames()).contains(col)) {
            throw new IllegalArgumentException("messagesCol '" + col + "' is not in the input (columns: "
                    + String.join(", ", schema.fieldNames()) + ")");
        }
        DataType t = schema.apply(col).dataType();
        boolean ok = t instanceof ArrayType a
                && a.elementType() instanceof StructType s
                && hasString(s, "role")
                && hasString(s, "content");
        if (!ok) {
            throw new IllegalArgumentException("messagesCol '" + col + "' must be array<struct<role: string, content: "
                    + "string>> but got " + t.simpleString());
        }
    }

    private static boolean hasString(StructType s, String field) {
        return Arrays.asList(s.fieldNames()).contains(field)
                && s.apply(field).dataType().equals(DataTypes.StringType);
    }

    @Override
    protected InputCodec codec(StructType schema) {
        boolean chat = !getMessagesCol().isEmpty();
        String col = chat ? getMessagesCol() : getInputCol();
        return new GenerationCodec(
                col,
                schema.fieldIndex(col),
                chat,
                null,
                null,
                generateKwargs().toString(),
                getSeed(),
                getNumReturnSequences() > 1,
                getSortWindow(),
                getMaxTokensPerBatch(),
                getBatchSize(),
                false, // truncation, maxSourceLength, sourcePrefix: an encoder-decoder's source
                0,
                null);
    }
}
