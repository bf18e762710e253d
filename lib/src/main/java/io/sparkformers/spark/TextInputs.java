package io.sparkformers.spark;

import java.io.Serializable;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.param.Params;
import org.apache.spark.sql.types.StructType;

/**
 * The {@link TextInputParams} of a stage, declared once (name, doc, default) for the two kinds of text stage: the
 * tokenizer ({@link TextStage}) and the model stages ({@link ModelStage}), which hold one each and expose its Params
 * through {@link TextInputStage}'s accessors (public only as that interface's return type: nothing of it is visible
 * outside this package). Also the checks of the text or token columns a model stage reads.
 */
public final class TextInputs implements Serializable {
    private static final long serialVersionUID = 1L;

    static final String MODEL_DOC = "the checkpoint: a Hugging Face checkpoint folder, a Hadoop URI of one "
            + "(hdfs:, s3a:, file:) or a built-in alias such as all-MiniLM-L6-v2";

    final IntParam maxLength;
    final Param<String> inputCol;
    final Param<String> inputPairCol;
    final Param<String> inputIdsCol;
    final Param<String> attentionMaskCol;
    final Param<String> tokenTypeIdsCol;

    /** Declares the Params on {@code stage} (whose uid is set) with their defaults. */
    TextInputs(Params stage) {
        maxLength = new IntParam(
                stage,
                "maxLength",
                "tokens kept per row, special tokens included (> 0; capped by the "
                        + "checkpoint's model_max_length; a SentenceEmbedder without it stops at the checkpoint's "
                        + "sentence-transformers max_seq_length); longer texts are truncated",
                ParamValidators.gt(0));
        inputCol = new Param<>(stage, "inputCol", "string column holding the text");
        inputPairCol = new Param<>(
                stage, "inputPairCol", "string column holding the second segment of text pairs " + "(\"\" for none)");
        inputIdsCol = new Param<>(
                stage,
                "inputIdsCol",
                "array<int> column of token ids; a model stage reads tokens "
                        + "from it instead of inputCol when the dataset has it");
        attentionMaskCol = new Param<>(stage, "attentionMaskCol", "array<int> column of the attention mask");
        tokenTypeIdsCol = new Param<>(stage, "tokenTypeIdsCol", "array<int> column of token type (segment) ids");
        stage.setDefault(maxLength, 512);
        stage.setDefault(inputCol, "text");
        stage.setDefault(inputPairCol, "");
        stage.setDefault(inputIdsCol, "input_ids");
        stage.setDefault(attentionMaskCol, "attention_mask");
        stage.setDefault(tokenTypeIdsCol, "token_type_ids");
    }

    /** Whether a stage reads the token columns (the dataset has {@code inputIdsCol}) instead of text. */
    static boolean hasTokens(TextInputParams p, StructType schema) {
        return CheckpointStage.has(schema, p.getInputIdsCol());
    }

    /** Checks the text (and pair) columns, or the token columns when {@code tokens}. */
    static void validate(TextInputParams p, StructType schema, boolean tokens) {
        if (tokens) {
            CheckpointStage.requireIntArray(schema, p.getInputIdsCol(), "inputIdsCol");
            for (String[] c : new String[][] {
                {p.getAttentionMaskCol(), "attentionMaskCol"}, {p.getTokenTypeIdsCol(), "tokenTypeIdsCol"}
            }) {
                if (CheckpointStage.has(schema, c[0])) CheckpointStage.requireIntArray(schema, c[0], c[1]);
            }
        } else {
            CheckpointStage.requireString(schema, p.getInputCol(), "inputCol");
            if (!p.getInputPairCol().isEmpty())
                CheckpointStage.requireString(schema, p.getInputPairCol(), "inputPairCol");
        }
    }
}
