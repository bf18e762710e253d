/**
 * The model layer, PyTorch {@code nn} and HF {@code modeling_utils} in DJL: the blocks models share (PyTorch-named
 * {@code Embedding}, {@code LayerNorm}, attention, activations, losses), HF's {@code AutoModel…} and
 * {@code from_pretrained} / {@code save_pretrained} (checkpoint names derived from the block tree, weights in and out
 * by HF name, strict key and shape checks), tasks, and inference scopes (no-grad, native memory). Each architecture
 * lives in a subpackage. Uses DJL, {@code hub} and {@code safetensors}; must not use pipelines, {@code train},
 * {@code distributed} or {@code spark} (checked by {@code LayeringTest}).
 */
package io.sparkformers.nn;
