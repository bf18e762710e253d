/**
 * Fine-tuning in one process, after HF's {@code Trainer}: {@code TrainingArguments} with HF's names and defaults,
 * the training loop with its callbacks, state and checkpoints ({@code checkpoint-<step>} folders, resume), data
 * collation and sharding, torch-equivalent optimizers, learning-rate schedules and clipping, and evaluation. Data
 * parallelism enters only through an interface (PyTorch DDP's process group seen from the loop), which
 * {@code distributed} implements. Uses {@code nn}, {@code hub}, {@code safetensors}, {@code metrics} and
 * {@code vision}; must not use {@code distributed} or {@code spark}.
 */
package io.sparkformers.train;
