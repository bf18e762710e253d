package io.sparkformers.spark;

import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.Params;

/**
 * The Params every Sparkformers text stage shares (MLlib's {@code …Params} trait, as a Java interface): where the text
 * and the token columns are, which checkpoint tokenizes, and how many tokens a row keeps. {@link TextInputs} declares
 * them once for the tokenizer and the model stages.
 */
public interface TextInputParams extends Params {
    /** The checkpoint: a folder, a Hadoop URI or a built-in alias. */
    Param<String> model();

    IntParam maxLength();

    Param<String> inputCol();

    Param<String> inputPairCol();

    Param<String> inputIdsCol();

    Param<String> attentionMaskCol();

    Param<String> tokenTypeIdsCol();

    default String getModel() {
        return isDefined(model()) ? getOrDefault(model()) : null;
    }

    default int getMaxLength() {
        return (Integer) getOrDefault(maxLength());
    }

    default String getInputCol() {
        return getOrDefault(inputCol());
    }

    /** The second-segment column, or "" for none. */
    default String getInputPairCol() {
        return getOrDefault(inputPairCol());
    }

    default String getInputIdsCol() {
        return getOrDefault(inputIdsCol());
    }

    default String getAttentionMaskCol() {
        return getOrDefault(attentionMaskCol());
    }

    default String getTokenTypeIdsCol() {
        return getOrDefault(tokenTypeIdsCol());
    }
}
