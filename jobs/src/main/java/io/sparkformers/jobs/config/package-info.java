/**
 * The YAML job configs of the command line: {@code finetune --config} ({@link
 * io.sparkformers.jobs.config.FinetuneConfig}, with HF TrainingArguments under {@code training:}) and {@code predict
 * --config} ({@link io.sparkformers.jobs.config.PredictConfig}, the predict options in snake_case). Keys are derived
 * from what declares them (record components, picocli options); unknown keys are refused with the library's shared
 * {@link io.sparkformers.hub.DidYouMean}.
 *
 * <p>May use: the library's public API (train, nn, hub), Jackson's YAML dataformat (the library reads only JSON) and
 * picocli's model of a command. No Spark.
 */
package io.sparkformers.jobs.config;
