/**
 * The embedded default job, {@code sparkformers demo}: spam detection end to end on the SpamAssassin corpus (fetch,
 * fine-tune with data-parallel workers, score to Parquet, report). An application of the library, kept beside it as
 * transformers keeps {@code examples/} out of {@code src/}.
 *
 * <p>May use: the library's public API (spark stages, train, hub), Spark, and {@link io.sparkformers.jobs.corpora}.
 * Must not be used by the library.
 */
package io.sparkformers.jobs.demo;
