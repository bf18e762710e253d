package io.sparkformers.nn.bert;

/**
 * Port of HF {@code BertSelfOutput}: LayerNorm(dropout(dense(attention context)) + input).
 * Inputs: context (B, T, H), residual input (B, T, H). Output (B, T, H).
 */
public final class BertSelfOutput extends BertResidualOutput {

    public BertSelfOutput(BertConfig c) {
        super(c);
    }
}
