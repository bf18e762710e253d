/**
 * GPT-2 as in HF {@code modeling_gpt2}: {@link io.sparkformers.nn.gpt2.GPT2Model} (learned positions, pre-LayerNorm
 * blocks, Conv1D weights stored (in, out)) and {@link io.sparkformers.nn.gpt2.GPT2LMHeadModel} (the head tied to the
 * token embeddings), run with a key/value cache through {@link io.sparkformers.nn.CausalLanguageModel}.
 */
package io.sparkformers.nn.gpt2;
