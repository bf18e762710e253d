/**
 * The {@code sparkformers} command line (picocli), run through {@code spark-submit}: thin commands that turn flags
 * or a YAML config into library calls and print the results (Tribuo's {@code TrainTest.main} shape); no logic
 * reachable only from here. The top layer: it may use every {@code lib} package and Spark; nothing in {@code lib}
 * depends on it.
 */
package io.sparkformers.jobs;
