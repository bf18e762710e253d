/**
 * Marian as in HF {@code modeling_marian}: {@link io.sparkformers.nn.marian.MarianMTModel}, BART's layers over
 * sinusoidal positions without layernorm_embedding, shared source/target embeddings; run by {@code generate()}
 * through {@link io.sparkformers.nn.Seq2SeqLanguageModel}.
 */
package io.sparkformers.nn.marian;
