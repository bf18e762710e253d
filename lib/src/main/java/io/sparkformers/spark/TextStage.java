package io.sparkformers.spark;

import io.sparkformers.hub.HfCheckpoint;
import java.util.Set;
import java.util.function.Predicate;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;

/**
 * Base of the text stages that run no model ({@link HuggingFaceTokenizer}): the {@link TextInputParams} (declared by
 * {@link TextInputs}, as in {@link ModelStage}) on a checkpoint stage that saves only the tokenizer files.
 */
public abstract class TextStage<S extends TextStage<S>> extends CheckpointStage<S> implements TextInputParams {
    private static final long serialVersionUID = 1L;

    /** Files the tokenizer stage needs. */
    private static final Set<String> TOKENIZER_FILES = Set.of(
            HfCheckpoint.TOKENIZER, HfCheckpoint.TOKENIZER_CONFIG, HfCheckpoint.CONFIG, "special_tokens_map.json");

    private final TextInputs text;

    protected TextStage(String uid) {
        super(uid, TextInputs.MODEL_DOC);
        text = new TextInputs(this);
    }

    // Mirrors ModelStage's text accessors; TextInputs declares the Params once for both
    @Override
    public IntParam maxLength() {
        return text.maxLength;
    }

    @Override
    public Param<String> inputCol() {
        return text.inputCol;
    }

    @Override
    public Param<String> inputPairCol() {
        return text.inputPairCol;
    }

    @Override
    public Param<String> inputIdsCol() {
        return text.inputIdsCol;
    }

    @Override
    public Param<String> attentionMaskCol() {
        return text.attentionMaskCol;
    }

    @Override
    public Param<String> tokenTypeIdsCol() {
        return text.tokenTypeIdsCol;
    }

    public S setMaxLength(int v) {
        set(text.maxLength, v);
        return self();
    }

    public S setInputCol(String v) {
        set(text.inputCol, v);
        return self();
    }

    public S setInputPairCol(String v) {
        set(text.inputPairCol, v);
        return self();
    }

    public S setInputIdsCol(String v) {
        set(text.inputIdsCol, v);
        return self();
    }

    public S setAttentionMaskCol(String v) {
        set(text.attentionMaskCol, v);
        return self();
    }

    public S setTokenTypeIdsCol(String v) {
        set(text.tokenTypeIdsCol, v);
        return self();
    }

    @Override
    protected Predicate<String> savedFiles() {
        return TOKENIZER_FILES::contains;
    }
}
