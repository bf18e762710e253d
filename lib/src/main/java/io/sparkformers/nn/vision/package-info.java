/**
 * Image models: the contract every image architecture meets (pixel values in, the feature-extractor / head split
 * that transfer learning needs), HF's {@code AutoModelForImageClassification} over a checkpoint folder, and the
 * PyTorch layers and functional ops DJL lacks or names differently ({@code BatchNorm2d} with torchvision's buffers,
 * {@code nn.Sequential} indices, adaptive pooling, bicubic interpolation). Architectures live in subpackages. Uses
 * {@code nn}, {@code hub}, {@code safetensors} and {@code vision} (preprocessing); nothing above {@code nn}.
 */
package io.sparkformers.nn.vision;
