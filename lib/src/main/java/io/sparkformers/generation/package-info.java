/**
 * HF {@code generate()}: {@link io.sparkformers.generation.GenerationConfig} (generation_config.json, call options
 * win), the logits processors in HF's order ({@link io.sparkformers.generation.LogitsProcessors}), stopping criteria,
 * and the searches ({@link io.sparkformers.generation.Generator}: greedy, seeded multinomial sampling, beam search).
 * The search sees a model only as a {@link io.sparkformers.generation.TokenScorer} (next-token logits per row and a
 * cache that follows beam reordering), so decoder-only ({@link io.sparkformers.generation.CausalLmScorer}) and
 * encoder-decoder ({@link io.sparkformers.generation.Seq2SeqScorer}) models share it. Sits above {@code nn},
 * below {@code pipeline}.
 */
package io.sparkformers.generation;
