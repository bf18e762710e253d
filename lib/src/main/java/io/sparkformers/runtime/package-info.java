/**
 * The machine under the models: the CPU ({@link io.sparkformers.runtime.CpuInfo}: vendor, model, the instruction sets
 * the kernels use) and which GEMM path libtorch's FP32 matrix products take ({@link io.sparkformers.runtime.GemmPath}).
 * The bottom layer: it knows DJL's engine and the operating system, no model, pipeline, training or Spark class.
 */
package io.sparkformers.runtime;
