package io.sparkformers.spark;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import io.sparkformers.nn.Task;
import java.util.Arrays;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.param.StringArrayParam;
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
 * (the pipeline's max_new_tokens 256). Sampling ({@code doSample}) is reproducible per row: each row draws from its
 * own RNG, seeded from {@code seed} and the row's prompt text, whatever the partitioning and batching (equal prompts
 * draw equal samples; ask {@code numReturnSequences} for several). Prompts are batched by length within
 * {@code sortWindow} and left-padded, as HF batches them; token columns are not read by this stage.
 */
public final class TextGenerator extends ModelStage<TextGenerator> {
    private static final long serialVersionUID = 1L;

    private final Param<String> messagesCol;
    private final IntParam maxNewTokens;
    private final BooleanParam doSample;
    private final DoubleParam temperature;
    private final IntParam topK;
    private final DoubleParam topP;
    private final IntParam numBeams;
    private final DoubleParam repetitionPenalty;
    private final IntParam numReturnSequences;
    private final StringArrayParam stopStrings;
    private final BooleanParam returnFullText;
    private final LongParam seed;

    public TextGenerator(String uid) {
        super(uid, "generated_text");
        messagesCol = new Param<>(
                this,
                "messagesCol",
                "column of chat messages, array<struct<role: string, content: string>>, rendered by the checkpoint's "
                        + "chat template (empty: read the prompt text from inputCol)");
        maxNewTokens = new IntParam(
                this,
                "maxNewTokens",
                "tokens generated per row at most (> 0; unset: generation_config.json's, else 256)",
                ParamValidators.gt(0));
        doSample = new BooleanParam(
                this,
                "doSample",
                "sample the next token instead of taking the best (HF do_sample; unset: the checkpoint's)");
        temperature = new DoubleParam(
                this,
                "temperature",
                "sampling temperature (> 0; unset: the checkpoint's, else 1.0)",
                ParamValidators.gt(0));
        topK = new IntParam(
                this,
                "topK",
                "sample among the k best tokens (>= 0, 0 = all; unset: the checkpoint's, else 50)",
                ParamValidators.gtEq(0));
        topP = new DoubleParam(
                this,
                "topP",
                "sample among the most likely tokens holding this probability (in (0, 1]; unset: the checkpoint's, "
                        + "else 1.0)",
                ParamValidators.inRange(0, 1, false, true));
        numBeams = new IntParam(
                this,
                "numBeams",
                "beams of beam search (> 0, 1 = none; unset: the checkpoint's, else 1)",
                ParamValidators.gt(0));
        repetitionPenalty = new DoubleParam(
                this,
                "repetitionPenalty",
                "penalty on tokens already in the sequence (> 0, 1.0 = none; unset: the checkpoint's, else 1.0)",
                ParamValidators.gt(0));
        numReturnSequences = new IntParam(
                this,
                "numReturnSequences",
                "texts per row (> 0; > 1 needs doSample or numBeams >= it, and makes the output an array<string>)",
                ParamValidators.gt(0));
        stopStrings = new StringArrayParam(
                this, "stopStrings", "texts that end a row's generation when it ends with one (HF stop_strings)");
        returnFullText = new BooleanParam(
                this, "returnFullText", "text prompts: the output starts with the prompt (HF return_full_text)");
        seed = new LongParam(this, "seed", "sampling seed, mixed with each row's prompt text into the row's own seed");
        setDefault(messagesCol, "");
        setDefault(numReturnSequences, 1);
        setDefault(stopStrings, new String[0]);
        setDefault(returnFullText, true);
        setDefault(seed, 0L);
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

    public IntParam maxNewTokens() {
        return maxNewTokens;
    }

    public BooleanParam doSample() {
        return doSample;
    }

    public DoubleParam temperature() {
        return temperature;
    }

    public IntParam topK() {
        return topK;
    }

    public DoubleParam topP() {
        return topP;
    }

    public IntParam numBeams() {
        return numBeams;
    }

    public DoubleParam repetitionPenalty() {
        return repetitionPenalty;
    }

    public IntParam numReturnSequences() {
        return numReturnSequences;
    }

    public StringArrayParam stopStrings() {
        return stopStrings;
    }

    public BooleanParam returnFullText() {
        return returnFullText;
    }

    public LongParam seed() {
        return seed;
    }

    public String getMessagesCol() {
        return getOrDefault(messagesCol);
    }

    public int getNumReturnSequences() {
        return (Integer) getOrDefault(numReturnSequences);
    }

    public String[] getStopStrings() {
        return getOrDefault(stopStrings);
    }

    public boolean getReturnFullText() {
        return (Boolean) getOrDefault(returnFullText);
    }

    public long getSeed() {
        return (Long) getOrDefault(seed);
    }

    public TextGenerator setMessagesCol(String v) {
        set(messagesCol, v);
        return this;
    }

    public TextGenerator setMaxNewTokens(int v) {
        set(maxNewTokens, v);
        return this;
    }

    public TextGenerator setDoSample(boolean v) {
        set(doSample, v);
        return this;
    }

    public TextGenerator setTemperature(double v) {
        set(temperature, v);
        return this;
    }

    public TextGenerator setTopK(int v) {
        set(topK, v);
        return this;
    }

    public TextGenerator setTopP(double v) {
        set(topP, v);
        return this;
    }

    public TextGenerator setNumBeams(int v) {
        set(numBeams, v);
        return this;
    }

    public TextGenerator setRepetitionPenalty(double v) {
        set(repetitionPenalty, v);
        return this;
    }

    public TextGenerator setNumReturnSequences(int v) {
        set(numReturnSequences, v);
        return this;
    }

    public TextGenerator setStopStrings(String... v) {
        set(stopStrings, v);
        return this;
    }

    public TextGenerator setReturnFullText(boolean v) {
        set(returnFullText, v);
        return this;
    }

    public TextGenerator setSeed(long v) {
        set(seed, v);
        return this;
    }

    /**
     * HF generate() keyword arguments of the set Params (unset ones are left to generation_config.json), with
     * num_return_sequences, stop_strings, return_full_text and seed always.
     */
    public ObjectNode generateKwargs() {
        ObjectNode k = Json.MAPPER.createObjectNode();
        if (isSet(maxNewTokens)) k.put("max_new_tokens", (Integer) $(maxNewTokens));
        if (isSet(doSample)) k.put("do_sample", (Boolean) $(doSample));
        if (isSet(temperature)) k.put("temperature", (Double) $(temperature));
        if (isSet(topK)) k.put("top_k", (Integer) $(topK));
        if (isSet(topP)) k.put("top_p", (Double) $(topP));
        if (isSet(numBeams)) k.put("num_beams", (Integer) $(numBeams));
        if (isSet(repetitionPenalty)) k.put("repetition_penalty", (Double) $(repetitionPenalty));
        k.put("num_return_sequences", getNumReturnSequences());
        if (getStopStrings().length > 0) {
            Arrays.stream(getStopStrings()).forEach(k.withArray("stop_strings")::add);
        }
        k.put("return_full_text", getReturnFullText());
        k.put("seed", getSeed());
        return k;
    }

    @Override
    protected Task task() {
        return Task.CAUSAL_LM;
    }

    @Override
    protected DataType outputDataType() {
        return getNumReturnSequences() > 1
                ? DataTypes.createArrayType(DataTypes.StringType, false)
                : DataTypes.StringType;
    }

    /** Not used: generation runs through {@link GenerationCodec}. */
    @Override
    protected RowScorer scorer() {
        throw new UnsupportedOperationException("TextGenerator scores through its GenerationCodec");
    }

    @Override
    protected boolean readsTokens(StructType schema) {
        return false;
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
                generateKwargs().toString(),
                getSeed(),
                getNumReturnSequences() > 1,
                getSortWindow(),
                getMaxTokensPerBatch(),
                getBatchSize());
    }
}
