/**
 * Port of HF {@code modeling_llama.py} and of the Mistral and Qwen2 models built from the same blocks: RMSNorm,
 * rotary position embeddings (with the {@code rope_scaling} types linear, dynamic and llama3), grouped-query
 * attention, SwiGLU MLP, tied or untied heads, attention biases (qwen2) and sliding windows (mistral, qwen2). One
 * validated config ({@link io.sparkformers.nn.llama.LlamaConfig}) serves {@code model_type} llama, mistral and qwen2;
 * {@link io.sparkformers.nn.llama.LlamaForCausalLM} is a {@link io.sparkformers.nn.CausalLanguageModel} with a
 * key/value cache. HF's module and child names, so checkpoint keys map mechanically.
 */
package io.sparkformers.nn.llama;
