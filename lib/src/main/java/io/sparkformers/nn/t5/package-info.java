/**
 * T5 as in HF {@code modeling_t5}: {@link io.sparkformers.nn.t5.T5ForConditionalGeneration} (v1.0 and v1.1/FLAN:
 * relative position buckets, no biases, RMS-style T5LayerNorm, relu or gated-GELU feed-forward, tied or untied head),
 * run by {@code generate()} through {@link io.sparkformers.nn.Seq2SeqLanguageModel}.
 */
package io.sparkformers.nn.t5;
