package io.sparkformers.spark;

import io.sparkformers.hub.HfCheckpoint;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Base of the text stages that run no model ({@link HuggingFaceTokenizer}): the {@link TextInputStage} Params (declared
 * by {@link TextInputs}, as in {@link ModelStage}) on a checkpoint stage that saves only the tokenizer files.
 */
public abstract class TextStage<S extends TextStage<S>> extends CheckpointStage<S> implements TextInputStage<S> {
    private static final long serialVersionUID = 1L;

    /** Files the tokenizer stage needs. */
    private static final Set<String> TOKENIZER_FILES = Set.of(
            HfCheckpoint.TOKENIZER, HfCheckpoint.TOKENIZER_CONFIG, HfCheckpoint.CONFIG, "special_tokens_map.json");

    private final TextInputs text;

    protected TextStage(String uid) {
        super(uid, TextInputs.MODEL_DOC);
        text = new TextInputs(this);
    }

    @Override
    public TextInputs textInputs() {
        return text;
    }

    @Override
    protected Predicate<String> savedFiles() {
        return TOKENIZER_FILES::contains;
    }
}
