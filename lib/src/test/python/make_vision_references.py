"""Reference outputs for the vision parity tests, from an independent implementation: torchvision.

Run with Debian's Python, which has python3-torchvision (torch 1.13, torchvision 0.14):

    apt-get install -y python3-torchvision
    /usr/bin/python3 lib/src/test/python/make_vision_references.py lib/src/test/resources/vision

Each model gets a folder in Hugging Face layout plus the reference tensors:
    config.json             what the Java side builds the model from
    model.safetensors       seeded weights with the original torchvision / HF names (float32)
    reference.safetensors   pixel_values (B, 3, H, W) and the outputs computed here in eval mode

Models are reduced in width only (same structure, same names, same layer counts) to keep the files small:
    vgg16, vgg16_bn   torchvision's VGG class with make_layers(cfg "D") at 1/16 of the channels
                      (64 -> 4 ... 512 -> 32) and a classifier hidden size of 32 instead of 4096
                      (the classifier is rebuilt with the same indices 0, 3, 6); input 32x32.
    resnet18          torchvision's ResNet with BasicBlock [2, 2, 2, 2], stem width 8 (instead of 64), so the
                      stages are 8/16/32/64 wide; input 32x32.
    resnet50          torchvision's Bottleneck [3, 4, 6, 3], stem width 4 (stages 4/8/16/32, expansion 4);
                      input 32x32.
    vit               torchvision's VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2,
                      hidden_dim=32, mlp_dim=64, num_classes=10), state dict mapped to HF ViT names
                      (ViTForImageClassification), layer_norm_eps 1e-6 and exact GELU as torchvision; plus the
                      same weights at image size 48 with the position table interpolated as HF's
                      ViTEmbeddings.interpolate_pos_encoding does (bicubic, align_corners=False, to the new grid).
Only the constructor of the reduced ResNet is written here; its blocks, _make_layer and forward are torchvision's.
Every parameter and buffer is re-drawn from a seeded distribution (see reseed) (torchvision zero-initialises the ViT
head and sets BatchNorm statistics to 0/1, which would make parity trivial).
"""
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet
from torchvision.models.vgg import VGG, make_layers

VGG16_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
DTYPES = {torch.float32: "F32", torch.int64: "I64"}


def write_safetensors(path, tensors):
    """The safetensors format by hand: u64 header length, JSON header, little-endian row-major bytes."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        data = t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for b in blobs:
            f.write(b)


def reseed(model, seed):
    """Every parameter and buffer re-drawn: weights N(0, 2 / fan_in) (He, so activations stay O(1) through deep
    stacks), vectors N(0, 0.1^2), BN scales near 1, running variances U(0.5, 1.5), num_batches_tracked 7."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            if t.dtype == torch.int64:
                t.fill_(7)
            elif name.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)
            elif name.endswith("weight") and t.dim() == 1:
                t.copy_(1 + 0.1 * torch.randn(t.shape, generator=g))
            elif t.dim() > 1:
                t.copy_((2.0 / t[0].numel()) ** 0.5 * torch.randn(t.shape, generator=g))
            else:
                t.copy_(0.1 * torch.randn(t.shape, generator=g))


def save(out, name, config, state, refs):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    write_safetensors(os.path.join(d, "model.safetensors"), state)
    write_safetensors(os.path.join(d, "reference.safetensors"), refs)
    print(name, {k: tuple(v.shape) for k, v in refs.items()})


def vgg(out, bn):
    cfg = [c if c == "M" else c // 16 for c in VGG16_CFG]
    m = VGG(make_layers(cfg, batch_norm=bn), num_classes=10, init_weights=False)
    hidden = 32
    m.classifier = nn.Sequential(nn.Linear(cfg[-2] * 7 * 7, hidden), nn.ReLU(True), nn.Dropout(),
                                 nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(), nn.Linear(hidden, 10))
    reseed(m, 1 if bn else 0)
    m.eval()
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(100))
    with torch.no_grad():
        logits = m(x)
        feats = m.classifier[:6](torch.flatten(m.avgpool(m.features(x)), 1))
    name = "vgg16_bn" if bn else "vgg16"
    save(out, name, {"model_type": name + "-torchvision", "num_classes": 10, "base_width": 4,
                     "classifier_hidden_size": hidden, "image_size": 32},
         m.state_dict(), {"pixel_values": x, "logits": logits, "features": feats})


class ReducedResNet(ResNet):
    """torchvision's ResNet with a stem width other than 64 (torchvision hard-codes inplanes = 64)."""

    def __init__(self, block, layers, num_classes, width):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes, self.dilation, self.groups, self.base_width = width, 1, 1, 64
        self.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, width, layers[0])
        self.layer2 = self._make_layer(block, width * 2, layers[1], stride=2)
        self.layer3 = self._make_layer(block, width * 4, layers[2], stride=2)
        self.layer4 = self._make_layer(block, width * 8, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(width * 8 * block.expansion, num_classes)


def resnet(out, name, block, layers, width, seed):
    m = ReducedResNet(block, layers, 10, width)
    reseed(m, seed)
    with torch.no_grad():                      # damp each residual branch (cf. zero_init_residual) so that the
        for b in m.modules():                  # activations do not grow with depth: logits stay O(10)
            if isinstance(b, Bottleneck):
                b.bn3.weight.mul_(0.2)
            elif isinstance(b, BasicBlock):
                b.bn2.weight.mul_(0.2)
    m.eval()
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(101))
    with torch.no_grad():
        logits = m(x)
        h = m.maxpool(m.relu(m.bn1(m.conv1(x))))
        feats = torch.flatten(m.avgpool(m.layer4(m.layer3(m.layer2(m.layer1(h))))), 1)
    save(out, name, {"model_type": name + "-torchvision", "num_classes": 10, "base_width": width, "image_size": 32},
         m.state_dict(), {"pixel_values": x, "logits": logits, "features": feats})


def vit_to_hf(sd, layers, dim):
    """torchvision ViT state dict -> HF ViTForImageClassification names (packed q/k/v split in three)."""
    hf = {
        "vit.embeddings.cls_token": sd["class_token"],
        "vit.embeddings.position_embeddings": sd["encoder.pos_embedding"],
        "vit.embeddings.patch_embeddings.projection.weight": sd["conv_proj.weight"],
        "vit.embeddings.patch_embeddings.projection.bias": sd["conv_proj.bias"],
        "vit.layernorm.weight": sd["encoder.ln.weight"],
        "vit.layernorm.bias": sd["encoder.ln.bias"],
        "classifier.weight": sd["heads.head.weight"],
        "classifier.bias": sd["heads.head.bias"],
    }
    for i in range(layers):
        t, h = f"encoder.layers.encoder_layer_{i}.", f"vit.encoder.layer.{i}."
        for p in ("weight", "bias"):
            q, k, v = sd[t + "self_attention.in_proj_" + p].split(dim)
            hf[h + "attention.attention.query." + p] = q
            hf[h + "attention.attention.key." + p] = k
            hf[h + "attention.attention.value." + p] = v
            hf[h + "attention.output.dense." + p] = sd[t + "self_attention.out_proj." + p]
            hf[h + "layernorm_before." + p] = sd[t + "ln_1." + p]
            hf[h + "layernorm_after." + p] = sd[t + "ln_2." + p]
            hf[h + "intermediate.dense." + p] = sd[t + "mlp.0." + p]
            hf[h + "output.dense." + p] = sd[t + "mlp.3." + p]
    assert len(hf) == len(sd) + 4 * layers, (len(hf), len(sd))   # in_proj weight and bias each become three
    return hf


def hf_interpolate_pos_encoding(pos, height, width, patch):
    """HF ViTEmbeddings.interpolate_pos_encoding (transformers >= 4.44): class position kept, grid resized."""
    cls_pos, patch_pos = pos[:, :1], pos[:, 1:]
    n, dim = patch_pos.shape[1], pos.shape[-1]
    side = int(n ** 0.5)
    grid = patch_pos.reshape(1, side, side, dim).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=(height // patch, width // patch), mode="bicubic", align_corners=False)
    return torch.cat((cls_pos, grid.permute(0, 2, 3, 1).reshape(1, -1, dim)), dim=1)


def vit_forward(m, x, pos):
    """torchvision's VisionTransformer.forward with the position table given (its input check needs image_size)."""
    n = x.shape[0]
    h = m.conv_proj(x).reshape(n, m.hidden_dim, -1).permute(0, 2, 1)           # (B, N, D)
    h = torch.cat([m.class_token.expand(n, -1, -1), h], dim=1)                   # (B, N + 1, D)
    h = h + pos
    enc = m.encoder
    last = enc.ln(enc.layers(enc.dropout(h)))
    return last, m.heads(last[:, 0])


def vit(out):
    size, patch, layers, heads, dim, mlp = 32, 8, 2, 2, 32, 64
    m = torchvision.models.VisionTransformer(image_size=size, patch_size=patch, num_layers=layers, num_heads=heads,
                                             hidden_dim=dim, mlp_dim=mlp, num_classes=10)
    reseed(m, 2)
    m.eval()
    config = {"model_type": "vit", "architectures": ["ViTForImageClassification"], "image_size": size,
              "patch_size": patch, "num_channels": 3, "hidden_size": dim, "num_hidden_layers": layers,
              "num_attention_heads": heads, "intermediate_size": mlp, "hidden_act": "gelu",
              "layer_norm_eps": 1e-6, "qkv_bias": True, "hidden_dropout_prob": 0.0,
              "attention_probs_dropout_prob": 0.0, "initializer_range": 0.02,
              "id2label": {str(i): c for i, c in enumerate(["t-shirt", "trouser", "pullover", "dress", "coat",
                                                           "sandal", "shirt", "sneaker", "bag", "ankle-boot"])}}
    config["label2id"] = {v: int(k) for k, v in config["id2label"].items()}
    hf = vit_to_hf(m.state_dict(), layers, dim)
    x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(102))
    x48 = torch.randn(2, 3, 48, 48, generator=torch.Generator().manual_seed(103))
    with torch.no_grad():
        ref_logits = m(x)
        last, logits = vit_forward(m, x, m.encoder.pos_embedding)
        assert torch.allclose(logits, ref_logits, atol=1e-6), "vit_forward must equal torchvision's forward"
        pos48 = hf_interpolate_pos_encoding(m.encoder.pos_embedding, 48, 48, patch)
        last48, logits48 = vit_forward(m, x48, pos48)
    save(out, "vit", config, hf, {"pixel_values": x, "logits": ref_logits, "last_hidden_state": last,
                                  "pixel_values_48": x48, "logits_48": logits48, "last_hidden_state_48": last48,
                                  "position_embeddings_48": pos48})


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "lib/src/test/resources/vision"
    torch.manual_seed(0)
    torch.set_num_threads(1)
    vgg(out, bn=False)
    vgg(out, bn=True)
    resnet(out, "resnet18", BasicBlock, [2, 2, 2, 2], 8, 3)
    resnet(out, "resnet50", Bottleneck, [3, 4, 6, 3], 4, 4)
    vit(out)


if __name__ == "__main__":
    main()
