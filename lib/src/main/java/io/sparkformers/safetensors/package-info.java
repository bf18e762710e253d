/**
 * The safetensors format of Hugging Face's {@code safetensors} library: reading and writing {@code .safetensors}
 * files and the sharded checkpoints {@code transformers}' {@code save_pretrained} writes (an index plus shards), as
 * raw typed tensors, memory-mapped where possible. The bottom layer: plain Java and Jackson only; it knows no
 * model, no DJL and no Spark, and nothing else of Sparkformers.
 */
package io.sparkformers.safetensors;
