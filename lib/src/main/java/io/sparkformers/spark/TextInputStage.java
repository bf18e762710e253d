package io.sparkformers.spark;

import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;

/**
 * The {@link TextInputParams} of a stage that holds them as one {@link TextInputs} declaration — the tokenizer
 * ({@link TextStage}) and the model stages ({@link ModelStage}) — with their accessors and setters written once.
 * Spark's {@code Params.params} finds the accessors by reflection, default methods included.
 *
 * @param <S> the stage's own type, which the setters return
 */
public interface TextInputStage<S extends TextInputStage<S>> extends TextInputParams {

    /** The Params this stage declared (opaque outside this package). */
    TextInputs textInputs();

    @Override
    default IntParam maxLength() {
        return textInputs().maxLength;
    }

    @Override
    default Param<String> inputCol() {
        return textInputs().inputCol;
    }

    @Override
    default Param<String> inputPairCol() {
        return textInputs().inputPairCol;
    }

    @Override
    default Param<String> inputIdsCol() {
        return textInputs().inputIdsCol;
    }

    @Override
    default Param<String> attentionMaskCol() {
        return textInputs().attentionMaskCol;
    }

    @Override
    default Param<String> tokenTypeIdsCol() {
        return textInputs().tokenTypeIdsCol;
    }

    default S setMaxLength(int v) {
        return setText(maxLength(), v);
    }

    default S setInputCol(String v) {
        return setText(inputCol(), v);
    }

    default S setInputPairCol(String v) {
        return setText(inputPairCol(), v);
    }

    default S setInputIdsCol(String v) {
        return setText(inputIdsCol(), v);
    }

    default S setAttentionMaskCol(String v) {
        return setText(attentionMaskCol(), v);
    }

    default S setTokenTypeIdsCol(String v) {
        return setText(tokenTypeIdsCol(), v);
    }

    /** Sets {@code p} and returns this stage as its own type. */
    @SuppressWarnings("unchecked")
    private <T> S setText(Param<T> p, T v) {
        set(p, v);
        return (S) this;
    }
}
