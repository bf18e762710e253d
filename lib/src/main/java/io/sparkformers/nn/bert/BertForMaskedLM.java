package io.sparkformers.nn.bert;

/**
 * Port of HF {@code BertForMaskedLM}: {@code cls.predictions} over last_hidden_state, decoder tied to
 * {@code bert.embeddings.word_embeddings.weight} ({@link TiedMaskedLM}). Inputs as {@link BertModel}; output: logits
 * (B, T, V). BERT only (RoBERTa's head is {@code lm_head.*}: {@link RobertaForMaskedLM}).
 */
public final class BertForMaskedLM extends TiedMaskedLM {

    public BertForMaskedLM(BertConfig c) {
        super(
                requireBert(c, "BertForMaskedLM", "lm_head.dense, lm_head.layer_norm, lm_head.bias"),
                "cls",
                new BertOnlyMLMHead(c),
                "cls.predictions");
    }

    public BertModel bert() {
        return encoder();
    }
}
