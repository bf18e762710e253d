/**
 * HF {@code pipeline()} in plain Java: a task name and a checkpoint folder give a pipeline that turns a batch of
 * inputs into typed results with HF's options, defaults and output shapes (text classification, token
 * classification, fill-mask, question answering, zero-shot, feature extraction, sentence embeddings, image tasks).
 * One process, no Spark: the Spark stages and the CLI run these. Uses {@code nn}, {@code nn.vision}, {@code hub}
 * and {@code vision}; must not use {@code train}, {@code distributed} or {@code spark}.
 */
package io.sparkformers.pipeline;
