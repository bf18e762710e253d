package io.sparkformers.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkformers.hub.Json;
import java.util.Arrays;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.param.StringArrayParam;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Base of the generating stages — {@link TextGenerator} (decoders) and the encoder-decoder stages
 * {@link Summarizer}, {@link Translator}, {@link Text2TextGenerator}: declares once the HF {@code generate()} Params
 * they share (maxNewTokens, doSample, temperature, topK, topP, numBeams, repetitionPenalty, numReturnSequences,
 * stopStrings, seed), turns the set ones into generate() keyword arguments (unset ones are left to the checkpoint's
 * generation_config.json, then HF's defaults), and scores through one {@link GenerationCodec}. Sampling is
 * reproducible per row: each row draws from its own RNG, seeded from {@code seed} and the row's input text, whatever
 * the partitioning and batching. Inputs are batched by token length within {@code sortWindow}.
 */
public abstract class GenerationStage<S extends GenerationStage<S>> extends ModelStage<S> {
    private static final long serialVersionUID = 1L;

    private final IntParam maxNewTokens;
    private final BooleanParam doSample;
    private final DoubleParam temperature;
    private final IntParam topK;
    private final DoubleParam topP;
    private final IntParam numBeams;
    private final DoubleParam repetitionPenalty;
    private final IntParam numReturnSequences;
    private final StringArrayParam stopStrings;
    private final LongParam seed;

    /** @param defaultMaxNewTokens the pipeline's max_new_tokens when neither the Param nor the checkpoint sets it */
    protected GenerationStage(String uid, String defaultOutputCol, String defaultMaxNewTokens) {
        super(uid, defaultOutputCol);
        maxNewTokens = new IntParam(
                this,
                "maxNewTokens",
                "tokens generated per row at most (> 0; unset: generation_config.json's, else " + defaultMaxNewTokens
                        + ")",
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
                "beams of beam search (> 0, 1 = none; unset: the checkpoint's, else the pipeline's)",
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
        seed = new LongParam(this, "seed", "sampling seed, mixed with each row's input text into the row's own seed");
        setDefault(numReturnSequences, 1);
        setDefault(stopStrings, new String[0]);
        setDefault(seed, 0L);
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

    public LongParam seed() {
        return seed;
    }

    public int getNumReturnSequences() {
        return (Integer) getOrDefault(numReturnSequences);
    }

    public String[] getStopStrings() {
        return getOrDefault(stopStrings);
    }

    public long getSeed() {
        return (Long) getOrDefault(seed);
    }

    public S setMaxNewTokens(int v) {
        set(maxNewTokens, v);
        return self();
    }

    public S setDoSample(boolean v) {
        set(doSample, v);
        return self();
    }

    public S setTemperature(double v) {
        set(temperature, v);
        return self();
    }

    public S setTopK(int v) {
        set(topK, v);
        return self();
    }

    public S setTopP(double v) {
        set(topP, v);
        return self();
    }

    public S setNumBeams(int v) {
        set(numBeams, v);
        return self();
    }

    public S setRepetitionPenalty(double v) {
        set(repetitionPenalty, v);
        return self();
    }

    public S setNumReturnSequences(int v) {
        set(numReturnSequences, v);
        return self();
    }

    public S setStopStrings(String... v) {
        set(stopStrings, v);
        return self();
    }

    public S setSeed(long v) {
        set(seed, v);
        return self();
    }

    /**
     * HF generate() keyword arguments of the set Params (unset ones are left to generation_config.json), with
     * num_return_sequences and seed always.
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
        k.put("seed", getSeed());
        return k;
    }

    /**
     * Sets the Params of HF generate() keyword arguments, the inverse of {@link #generateKwargs()}: max_new_tokens,
     * do_sample, temperature, top_k, top_p, num_beams, repetition_penalty, num_return_sequences, stop_strings, seed
     * (TextGenerator: and return_full_text). Null sets nothing; another key, or a value of the wrong JSON type, fails
     * naming it.
     */
    public S setGenerateKwargs(JsonNode kwargs) {
        if (kwargs == null) return self();
        kwargs.fields().forEachRemaining(e -> setKwarg(e.getKey(), e.getValue()));
        return self();
    }

    /** Sets the Param of one generate() keyword argument; a stage with more extends this. */
    protected void setKwarg(String key, JsonNode v) {
        switch (key) {
            case "max_new_tokens" -> setMaxNewTokens(integer(key, v));
            case "do_sample" -> setDoSample(bool(key, v));
            case "temperature" -> setTemperature(number(key, v));
            case "top_k" -> setTopK(integer(key, v));
            case "top_p" -> setTopP(number(key, v));
            case "num_beams" -> setNumBeams(integer(key, v));
            case "repetition_penalty" -> setRepetitionPenalty(number(key, v));
            case "num_return_sequences" -> setNumReturnSequences(integer(key, v));
            case "seed" -> {
                if (!v.canConvertToLong() || !v.isIntegralNumber()) throw wrongType(key, v, "an integer");
                setSeed(v.asLong());
            }
            case "stop_strings" -> {
                if (!v.isArray()) throw wrongType(key, v, "a list of texts");
                String[] stops = new String[v.size()];
                for (int i = 0; i < stops.length; i++) stops[i] = v.get(i).asText();
                setStopStrings(stops);
            }
            default ->
                throw new IllegalArgumentException("generate() option '" + key + "' is not supported by "
                        + getClass().getSimpleName() + " (supported: max_new_tokens, do_sample, temperature, top_k, "
                        + "top_p, num_beams, repetition_penalty, num_return_sequences, stop_strings, seed"
                        + (this instanceof TextGenerator ? ", return_full_text)" : ")"));
        }
    }

    private static int integer(String key, JsonNode v) {
        if (!v.isIntegralNumber() || !v.canConvertToInt()) throw wrongType(key, v, "an integer");
        return v.asInt();
    }

    private static double number(String key, JsonNode v) {
        if (!v.isNumber()) throw wrongType(key, v, "a number");
        return v.asDouble();
    }

    /** A JSON boolean. */
    protected static boolean bool(String key, JsonNode v) {
        if (!v.isBoolean()) throw wrongType(key, v, "true or false");
        return v.asBoolean();
    }

    private static IllegalArgumentException wrongType(String key, JsonNode v, String expected) {
        return new IllegalArgumentException("generate() option " + key + " must be " + expected + " but was " + v);
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
        throw new UnsupportedOperationException(getClass().getSimpleName() + " scores through its GenerationCodec");
    }

    /** Token columns are not read: generation tokenizes the text as its pipeline does. */
    @Override
    protected boolean readsTokens(StructType schema) {
        return false;
    }
}
