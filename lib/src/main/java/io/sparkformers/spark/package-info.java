/**
 * The Spark ML layer, in the style of MLlib's {@code ml.feature}: Transformers that run HF pipelines and models over
 * DataFrame columns (a checkpoint loaded once per executor JVM, token-budget batches per partition), Estimators that
 * fine-tune across barrier tasks, model shipping to executors, persistence through MLlib's readers and writers, and
 * batch scoring of lake files. The only package that imports {@code org.apache.spark}; it may use every library
 * package below it, and nothing in {@code lib} depends on it.
 */
package io.sparkformers.spark;
