/**
 * Port of HF {@code modeling_vit.py} / {@code configuration_vit.py}: the Vision Transformer with HF's module and
 * child names (pre-LayerNorm layers, [CLS] + patch embeddings, position table interpolated for other image sizes),
 * its image-classification head and the validated config record. Uses {@code nn} and {@code nn.vision}; nothing
 * above {@code nn}.
 */
package io.sparkformers.nn.vision.vit;
