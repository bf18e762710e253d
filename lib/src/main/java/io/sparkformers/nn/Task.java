package io.sparkformers.nn;

/** What a model is built for: the HF {@code AutoModelFor…} class it corresponds to. */
public enum Task {
    /** {@code AutoModel}: the bare encoder (with pooler where the architecture has one). */
    BASE,
    /** {@code AutoModelForSequenceClassification}: logits (B, num_labels). */
    SEQUENCE_CLASSIFICATION,
    /** {@code AutoModelForTokenClassification}: logits (B, T, num_labels). */
    TOKEN_CLASSIFICATION,
    /** {@code AutoModelForQuestionAnswering}: start and end logits (B, T). */
    QUESTION_ANSWERING,
    /** {@code AutoModelForMaskedLM}: logits (B, T, vocab). */
    MASKED_LM,
    /** sentence-transformers: mean-pooled, L2-normalised embeddings (B, H). */
    SENTENCE_EMBEDDING,
    /** {@code AutoModelForCausalLM}: next-token logits (B, T, vocab), a {@link CausalLanguageModel}. */
    CAUSAL_LM,
    /**
     * {@code AutoModelForSeq2SeqLM}: an encoder-decoder, decoder logits (B, T, vocab), a
     * {@link Seq2SeqLanguageModel}.
     */
    SEQ2SEQ_LM
}
