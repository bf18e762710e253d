/**
 * Ports of torchvision's CNNs (ResNet with its basic and bottleneck blocks, VGG with or without batch norm) under
 * torchvision's state-dict names, so its checkpoints load mechanically, plus a {@code config.json} form for them
 * (torchvision has none) and torchvision's constructor initialisation. Uses {@code nn} and {@code nn.vision};
 * nothing above {@code nn}.
 */
package io.sparkformers.nn.vision.cnn;
