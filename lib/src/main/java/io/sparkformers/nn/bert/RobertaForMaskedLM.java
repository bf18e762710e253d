package io.sparkformers.nn.bert;

/**
 * Port of HF {@code RobertaForMaskedLM} (RoBERTa, XLM-RoBERTa): {@link RobertaLMHead} ({@code lm_head}) over
 * last_hidden_state, decoder tied to {@code roberta.embeddings.word_embeddings.weight} ({@link TiedMaskedLM}).
 * Inputs as {@link BertModel}; output: logits (B, T, V).
 */
public final class RobertaForMaskedLM extends TiedMaskedLM {

    public RobertaForMaskedLM(BertConfig c) {
        super(
                RobertaForSequenceClassification.requireRoberta(c, "RobertaForMaskedLM"),
                "lm_head",
                new RobertaLMHead(c),
                "lm_head");
    }

    public BertModel roberta() {
        return encoder();
    }
}
