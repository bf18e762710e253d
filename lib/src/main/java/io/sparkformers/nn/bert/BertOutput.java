package io.sparkformers.nn.bert;

/**
 * Port of HF {@code BertOutput}: LayerNorm(dropout(dense(intermediate)) + attention output).
 * Inputs: intermediate (B, T, I), residual (B, T, H). Output (B, T, H).
 */
public final class BertOutput extends BertResidualOutput {

    public BertOutput(BertConfig c) {
        super(c);
    }
}
