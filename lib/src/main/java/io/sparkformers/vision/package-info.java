/**
 * Images before a model sees them, as HF image processors and PIL do it: decoding (PIL's {@code convert("RGB")}),
 * PIL's resampling filters, the {@code preprocessor_config.json} steps (resize, center crop, rescale, normalize) to
 * float32 batches, and the IDX files of (Fashion-)MNIST. Plain Java plus DJL arrays for the batch and {@code hub}'s
 * JSON mapper; it knows no model architecture, no training and no Spark.
 */
package io.sparkformers.vision;
