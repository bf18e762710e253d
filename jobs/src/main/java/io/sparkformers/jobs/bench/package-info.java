/**
 * The measurements behind {@code sparkformers bench}, kept beside the library rather than in it (as
 * {@code transformers} keeps {@code benchmark/} out of {@code src/}): each times our path against a peer measured in
 * the same run (ONNX Runtime, a bare loop, raw TCP) and reports ratios. Applications of the library: they may use
 * any {@code lib} package, Spark and ONNX Runtime, and nothing in {@code lib} depends on them.
 */
package io.sparkformers.jobs.bench;
