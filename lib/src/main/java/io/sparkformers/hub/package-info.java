/**
 * Checkpoint folders and where they come from, as {@code huggingface_hub} and {@code transformers}' file handling
 * do it: the HF folder layout ({@code config.json}, safetensors weights, {@code tokenizer.json} …), reading and
 * writing it, model references (local folder, Hadoop URI, alias, Hub id) resolved to a local folder through the Hub
 * client, the per-host cache and the Maven client, and the checkpoint's fast tokenizer. A bottom layer beside
 * {@code safetensors}, which it may use: it must not depend on models ({@code nn}), pipelines, training,
 * {@code distributed} or {@code spark}; Hadoop's FileSystem is allowed, Spark is not. Built-in aliases come from
 * {@code convert} through a {@link java.util.ServiceLoader} hook, never an import.
 */
package io.sparkformers.hub;
