/**
 * Port of HF {@code modeling_distilbert.py} / {@code configuration_distilbert.py}: HF's module and child names
 * ({@code distilbert}, {@code transformer.layer.N}, the tied {@code vocab_projector}), the task heads and the
 * validated config record. Uses the shared blocks of {@code nn}; like all of {@code nn}, nothing above it.
 */
package io.sparkformers.nn.distilbert;
