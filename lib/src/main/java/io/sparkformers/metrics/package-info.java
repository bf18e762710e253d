/**
 * Evaluation metrics as HF {@code evaluate}, scikit-learn, seqeval and the SQuAD script compute them, kept as
 * mergeable sufficient statistics (counts and exact sums, in the spirit of {@code add_batch} / {@code compute}) so
 * that shards scored apart merge to the same result in any order. Pure Java: no DJL, no Spark, no other Sparkformers
 * package.
 */
package io.sparkformers.metrics;
