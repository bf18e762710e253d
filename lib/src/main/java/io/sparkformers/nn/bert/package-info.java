/**
 * Port of HF {@code modeling_bert.py} / {@code configuration_bert.py}: one class per HF module with HF's names and
 * child names, so checkpoint keys map mechanically, the base model and its task heads (heads wrap the base model
 * under the child {@code bert}), and the validated config record. Uses the shared blocks of {@code nn}; like all of
 * {@code nn}, nothing above it.
 */
package io.sparkformers.nn.bert;
