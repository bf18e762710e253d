/**
 * Sparkformers: Hugging Face-style transformer models run and fine-tuned in Java (DJL's PyTorch engine) and on Apache
 * Spark. This root package holds only facts about the library itself (its version). The layers below point one way:
 * {@code spark} → {@code distributed} / {@code train} / {@code pipeline} → {@code nn} → {@code hub} /
 * {@code safetensors}; only {@code spark} imports {@code org.apache.spark} (checked by {@code LayeringTest}).
 */
package io.sparkformers;
