/**
 * BART as in HF {@code modeling_bart}: {@link io.sparkformers.nn.bart.BartForConditionalGeneration} (shared token
 * table, learned positions with offset 2, post-LayerNorm encoder and decoder, final_logits_bias), run by
 * {@code generate()} through {@link io.sparkformers.nn.Seq2SeqLanguageModel}.
 */
package io.sparkformers.nn.bart;
