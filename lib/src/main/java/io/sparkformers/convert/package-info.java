/**
 * Importers that turn model files published elsewhere (ONNX exports, Google's TF1 BERT checkpoints, WordPiece
 * vocabularies) into HF checkpoint folders, in the spirit of {@code transformers}' {@code convert_*} scripts, and the
 * built-in model aliases whose weights ship inside Maven artifacts. Uses {@code hub} and {@code safetensors} only
 * (its own minimal readers of ONNX and TensorFlow files, no model code, no DJL, no Spark); {@code hub} reaches the
 * aliases through a {@link java.util.ServiceLoader} provider, not an import.
 */
package io.sparkformers.convert;
