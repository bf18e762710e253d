/**
 * Applications built on the library, kept beside it rather than in it (as transformers keeps {@code examples/}
 * outside {@code src/}): the experiment recipes behind the CLI commands and the notebooks, e.g. the Fashion-MNIST
 * training and transfer comparison of {@code sparkformers vision-train}. Library code never depends on this package.
 */
package io.sparkformers.jobs.recipes;
