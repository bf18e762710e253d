package io.sparkformers.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;

/**
 * What a task's data collator makes of one micro-batch (HF: the dict a {@code DataCollator} returns): the model
 * inputs, the labels {@link TrainingLoss} compares the outputs with, and the count the loop adds to
 * {@code num_input_tokens_seen}.
 *
 * @param inputs the model's inputs, e.g. (input_ids, attention_mask, token_type_ids) (B, T) or pixel_values (B, 3, H, W)
 * @param labels the targets: (B) class ids, (B, T) token ids with -100 ignored, (B, C) multi-hot, (B) values
 * @param count  real tokens (text) or images in the batch
 */
record ModelBatch(NDList inputs, NDArray labels, long count) {}
